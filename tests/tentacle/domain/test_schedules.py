"""When schedules run: cron on the local wall clock across daylight saving, intervals, what is
refused at creation, and what the missed-run policies make of a late sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.tentacle.schedules import MissedPolicy
from tentacle.domain.schedules import Recurrence, due_runs
from tentacle.domain.trigger_errors import TriggerError

PARIS = "Europe/Paris"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, s: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, s, tzinfo=UTC)


def cron(expression: str, tz: str = PARIS, anchor: datetime | None = None) -> Recurrence:
    return Recurrence.parse(
        cron=expression, interval_seconds=None, timezone=tz, anchor=anchor or utc(2026, 1, 1)
    )


def following(r: Recurrence, start: datetime, n: int) -> list[datetime]:
    out, at = [], start
    for _ in range(n):
        at = r.next_after(at)
        out.append(at)
    return out


def test_cron_follows_the_local_wall_clock_through_daylight_saving() -> None:
    daily = cron("0 9 * * *")
    # 9:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer (clocks went forward 29 March).
    assert following(daily, utc(2026, 3, 28, 12), 2) == [utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)]
    assert following(daily, utc(2026, 3, 27, 12), 1) == [utc(2026, 3, 28, 8)]


def test_a_skipped_local_time_runs_after_the_gap_and_a_repeated_one_once() -> None:
    night = cron("30 2 * * *")
    # 29 March 2026: 02:00-03:00 does not exist in Paris; 02:30 runs at 03:30 local (01:30 UTC).
    assert following(night, utc(2026, 3, 28, 12), 2) == [
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]
    # 25 October 2026: 02:00-03:00 happens twice; 02:30 runs once, the first time (CEST).
    assert following(night, utc(2026, 10, 24, 12), 2) == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]


def test_intervals_count_elapsed_time_from_the_start() -> None:
    every = Recurrence.parse(
        cron=None, interval_seconds=3600, timezone=PARIS, anchor=utc(2026, 1, 1, 0, 10)
    )
    assert every.next_after(utc(2025, 1, 1)) == utc(2026, 1, 1, 0, 10)
    assert every.next_after(utc(2026, 1, 1, 0, 10)) == utc(2026, 1, 1, 1, 10)
    assert every.latest_at_or_before(utc(2026, 1, 1, 3, 9)) == utc(2026, 1, 1, 2, 10)


@pytest.mark.parametrize(
    ("expression", "tz", "interval", "code"),
    [
        ("0 0 30 2 *", "UTC", None, "tentacle.schedule_never_fires"),
        ("0 0 31 4,6 *", "UTC", None, "tentacle.schedule_never_fires"),
        ("61 * * * *", "UTC", None, "tentacle.schedule_invalid"),
        ("* * * * * *", "UTC", None, "tentacle.schedule_invalid"),
        ("@reboot", "UTC", None, "tentacle.schedule_invalid"),
        ("every day", "UTC", None, "tentacle.schedule_invalid"),
        ("0 9 * * *", "Mars/Olympus", None, "tentacle.schedule_invalid"),
        ("0 9 * * *", "../../etc/passwd", None, "tentacle.schedule_invalid"),
        ("0 9 * * *", "UTC", 3600, "tentacle.schedule_invalid"),
        (None, "UTC", None, "tentacle.schedule_invalid"),
    ],
)
def test_schedules_that_cannot_work_are_refused(
    expression: str | None, tz: str, interval: int | None, code: str
) -> None:
    with pytest.raises(TriggerError) as caught:
        Recurrence.parse(
            cron=expression, interval_seconds=interval, timezone=tz, anchor=utc(2026, 1, 1)
        )
    assert caught.value.code == code


def test_a_leap_day_schedule_is_rare_but_fires() -> None:
    assert cron("0 0 29 2 *", "UTC").next_after(utc(2026, 1, 1)) == utc(2028, 2, 29)


@pytest.mark.parametrize(
    ("policy", "expected_hours"),
    [
        (MissedPolicy.SKIP, []),
        (MissedPolicy.RUN_ONCE, [5]),
        (MissedPolicy.RUN_ALL, [3, 4, 5]),
    ],
)
def test_missed_runs_follow_the_policy(policy: MissedPolicy, expected_hours: list[int]) -> None:
    hourly = cron("0 * * * *", "UTC")
    # Down from 00:30 to 05:40: the runs of 1:00 to 5:00 were missed.
    runs = due_runs(
        hourly,
        pending_from=utc(2026, 1, 1, 1),
        now=utc(2026, 1, 1, 5, 40),
        policy=policy,
        max_catch_up=3,
        grace=timedelta(minutes=2),
    )
    assert runs == [utc(2026, 1, 1, h) for h in expected_hours]


def test_an_occurrence_on_time_runs_whatever_the_policy() -> None:
    hourly = cron("0 * * * *", "UTC")
    for policy in MissedPolicy:
        runs = due_runs(
            hourly,
            pending_from=utc(2026, 1, 1, 5),
            now=utc(2026, 1, 1, 5, 0, 30),
            policy=policy,
            max_catch_up=3,
            grace=timedelta(minutes=2),
        )
        assert runs == [utc(2026, 1, 1, 5)]
