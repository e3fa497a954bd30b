"""Error codes the bus layer itself answers with, whatever the service."""

from __future__ import annotations

from enum import StrEnum


class BusErrorCode(StrEnum):
    MALFORMED = "bus.malformed"
    """The body is not a JSON envelope."""
    INVALID_PAYLOAD = "bus.invalid_payload"
    """The envelope or payload does not match the subject's model."""
    UNKNOWN_VERSION = "bus.unknown_version"
    """The message declares a payload type this subject does not carry (another version)."""
    OVERSIZE = "bus.oversize"
    """The body is larger than the platform accepts."""
    WRONG_SUBJECT = "bus.wrong_subject"
    """The subject's tokens do not agree with the payload (e.g. another org's id)."""
    TIMEOUT = "bus.timeout"
    """No reply in time."""
    UNAVAILABLE = "bus.unavailable"
    """Nobody serves the subject right now."""
    MAX_DELIVERIES = "bus.max_deliveries"
    """Every delivery attempt failed or timed out."""
    INTERNAL = "bus.internal"
    """An unexpected error in the handler; details are in the service's log, not the reply."""
