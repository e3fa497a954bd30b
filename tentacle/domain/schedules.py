"""When a schedule runs: its occurrences in UTC, computed on the local wall clock of its time
zone, and which of them a late run makes up for. Pure: the caller says what time it is.

Cron expressions are evaluated by croniter on naive local times and converted to UTC here,
where daylight saving is decided once: a local time in a gap runs when it would have by
elapsed time (fold 0 read with the offset before the gap), one that happens twice runs at its
first instant only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import (  # type: ignore[import-untyped]
    CroniterBadCronError,
    CroniterBadDateError,
    CroniterError,
    croniter,
)

from contracts.tentacle.schedules import MissedPolicy
from contracts.tentacle.trigger_errors import TriggerErrorCode
from tentacle.domain.trigger_errors import TriggerError

ALIASES: Final = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"})
ALIASES_MIDNIGHT: Final = frozenset({"@midnight"})
_STEP: Final = timedelta(microseconds=1)


def _invalid(message: str) -> TriggerError:
    return TriggerError(TriggerErrorCode.SCHEDULE_INVALID, message)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(f"unknown time zone {name[:64]!r}; use an IANA name") from None


def _local(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz).replace(tzinfo=None)


def _utc(naive_local: datetime, tz: ZoneInfo) -> datetime:
    # fold=0: the first of a repeated time; a time in a gap reads with the offset before it,
    # which lands after the gap by elapsed time.
    return naive_local.replace(tzinfo=tz, fold=0).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A cron expression in a zone, or an interval from an anchor."""

    tz: ZoneInfo
    anchor: datetime
    cron: str | None = None
    interval: timedelta | None = None

    @classmethod
    def parse(
        cls,
        *,
        cron: str | None,
        interval_seconds: int | None,
        timezone: str,
        anchor: datetime,
    ) -> Recurrence:
        """The checked recurrence, or a coded error (invalid, or never fires)."""
        if (cron is None) == (interval_seconds is None):
            raise _invalid("give exactly one of cron or interval_seconds")
        tz = zone(timezone)
        if interval_seconds is not None:
            return cls(tz, anchor, interval=timedelta(seconds=interval_seconds))
        assert cron is not None
        expression = " ".join(cron.split())
        if expression.startswith("@"):
            if expression not in ALIASES | ALIASES_MIDNIGHT:
                raise _invalid(f"unknown cron alias {expression[:20]!r}")
        elif len(expression.split(" ")) != 5:
            raise _invalid("a cron expression has five fields: minute hour day month weekday")
        try:
            croniter(expression, _local(anchor, tz))
        except (CroniterBadCronError, CroniterError, ValueError, KeyError) as exc:
            raise _invalid(f"cron expression {expression!r} does not parse: {exc}") from None
        recurrence = cls(tz, anchor, cron=expression)
        try:
            recurrence.next_after(anchor)
        except CroniterBadDateError:
            raise TriggerError(
                TriggerErrorCode.SCHEDULE_NEVER_FIRES,
                f"cron expression {expression!r} names no time that ever comes",
            ) from None
        return recurrence

    # ------------------------------------------------------------------ occurrences
    def next_after(self, at: datetime) -> datetime:
        """The first occurrence strictly after `at`, not before the anchor."""
        at = max(at, self.anchor - _STEP)
        if self.interval is not None:
            if at < self.anchor:
                return self.anchor
            passed = (at - self.anchor) // self.interval
            return self.anchor + (passed + 1) * self.interval
        assert self.cron is not None
        it = croniter(self.cron, _local(at, self.tz))
        while True:
            candidate = _utc(it.get_next(datetime), self.tz)
            if candidate > at:
                return candidate

    def latest_at_or_before(self, at: datetime) -> datetime | None:
        """The last occurrence at or before `at` (None if there is none since the anchor)."""
        if at < self.anchor:
            return None
        if self.interval is not None:
            return self.anchor + ((at - self.anchor) // self.interval) * self.interval
        assert self.cron is not None
        it = croniter(self.cron, _local(at + _STEP, self.tz))
        while True:
            try:
                candidate = _utc(it.get_prev(datetime), self.tz)
            except CroniterBadDateError:
                return None
            if candidate < self.anchor:
                return None
            if candidate <= at:
                return candidate

    def latest(self, since: datetime, until: datetime, limit: int) -> list[datetime]:
        """Up to `limit` occurrences in [since, until], the latest ones, oldest first."""
        found: list[datetime] = []
        at = until
        while len(found) < limit:
            occurrence = self.latest_at_or_before(at)
            if occurrence is None or occurrence < since:
                break
            found.append(occurrence)
            at = occurrence - _STEP
        found.reverse()
        return found


def due_runs(
    recurrence: Recurrence,
    *,
    pending_from: datetime,
    now: datetime,
    policy: MissedPolicy,
    max_catch_up: int,
    grace: timedelta,
) -> list[datetime]:
    """The occurrences to run now, given that none from `pending_from` on has been handled.

    An occurrence later than `grace` is missed (nothing ran at its time); the policy decides
    what becomes of missed ones. One on time always runs.
    """
    if pending_from > now:
        return []
    limit = max_catch_up if policy is MissedPolicy.RUN_ALL else 1
    latest = recurrence.latest(pending_from, now, limit)
    if not latest:
        return []
    on_time = [t for t in latest if now - t <= grace]
    if policy is MissedPolicy.SKIP:
        return on_time[-1:]
    if policy is MissedPolicy.RUN_ONCE:
        return latest[-1:]
    return latest
