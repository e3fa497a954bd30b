"""Stable error codes of triggered and scheduled tasks (tentacle's `tentacle.*` namespace)."""

from __future__ import annotations

from enum import StrEnum


class TriggerErrorCode(StrEnum):
    TRIGGER_NOT_FOUND = "tentacle.trigger_not_found"
    """No such trigger in this organisation (another organisation's ids look the same)."""
    TRIGGER_FILTER_INVALID = "tentacle.trigger_filter_invalid"
    """The event filter names a field the source's events do not have, uses an unknown
    operator, gives an operand of the wrong kind, or is too large."""
    TRIGGER_INVALID = "tentacle.trigger_invalid"
    """The trigger does not hang together: a response the source cannot answer (a Discord
    follow-up to a GitHub event), an integration given for platform events, ..."""
    SCHEDULE_NOT_FOUND = "tentacle.schedule_not_found"
    SCHEDULE_INVALID = "tentacle.schedule_invalid"
    """A cron expression that does not parse, an unknown time zone, both or neither of cron
    and interval, an interval out of range."""
    SCHEDULE_NEVER_FIRES = "tentacle.schedule_never_fires"
    """The cron expression parses but names no time that ever comes (February 30th)."""
