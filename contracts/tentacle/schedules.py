"""Scheduled tasks: a goal that runs as a new task on a cron expression or at an interval.

Cron expressions are the five classic fields (minute hour day-of-month month day-of-week, or
`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`) read in the schedule's IANA time zone
(the organisation's, e.g. `Europe/Paris`), on the wall clock: `0 9 * * 1-5` is 9 a.m. local
time whether or not daylight saving is on. A local time that does not exist (skipped when the
clocks go forward) runs when it would have been by elapsed time (02:30 becomes 03:30); one that
happens twice (clocks going back) runs once, the first time. An interval runs every
`interval_seconds` from `start_at`, in elapsed time.

Each occurrence creates one task, however many replicas run. Occurrences missed while nothing
ran (the service was down longer than the grace period) follow the schedule's `missed` policy:
`skip` them, `run_once` (one run for all of them), or `run_all` (each, up to `max_catch_up`,
the latest ones). An expression that names no time that ever comes (February 30th) is refused
at creation with `tentacle.schedule_never_fires`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import AwareDatetime, Field, StringConstraints

from contracts.envelope import Actor
from contracts.ids import OrgId, SubjectToken
from contracts.inkpass.streams import EVENTS_STREAM as INKPASS_EVENTS
from contracts.inkpass.subjects import ORG_SETTINGS_CHANGED
from contracts.model import ContractModel
from contracts.streams import Consumer, DeliverPolicy
from contracts.subject import Subject, rpc
from contracts.tentacle.streams import PATIENT_BACKOFF
from contracts.tentacle.subjects import SERVICE

Goal = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Cron = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Interval = Annotated[int, Field(ge=60, le=366 * 86_400)]


class MissedPolicy(StrEnum):
    SKIP = "skip"
    """Occurrences that passed while nothing ran are dropped; the schedule carries on."""
    RUN_ONCE = "run_once"
    """One run makes up for all of them (at the latest missed time)."""
    RUN_ALL = "run_all"
    """Each runs, the latest `max_catch_up` of them."""


class CreateScheduleV1(ContractModel):
    """Exactly one of `cron` or `interval_seconds`."""

    goal: Goal
    cron: Cron | None = Field(default=None, description="e.g. '0 9 * * 1-5' or '@daily'.")
    interval_seconds: Interval | None = None
    timezone: TimeZoneName | None = Field(
        default=None,
        description="IANA name; None: the org's time zone (inkpass org settings), followed "
        "when the org changes it.",
    )
    start_at: AwareDatetime | None = Field(
        default=None, description="No run before this; an interval counts from it (now if unset)."
    )
    missed: MissedPolicy = MissedPolicy.RUN_ONCE
    max_catch_up: int = Field(default=10, ge=1, le=100, description="Bound of run_all.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    enabled: bool = True


class UpdateScheduleV1(ContractModel):
    """Change a schedule; fields left null keep their value. Giving `cron` drops the interval
    and the other way round. Checked like a new schedule; it carries on from its next
    occurrence under the new rule."""

    schedule_id: SubjectToken
    goal: Goal | None = None
    cron: Cron | None = None
    interval_seconds: Interval | None = None
    timezone: TimeZoneName | None = Field(
        default=None, description="A zone of its own: it stops following the org's."
    )
    follow_org_zone: bool | None = Field(
        default=None, description="True: run in the org's time zone again, and follow it."
    )
    missed: MissedPolicy | None = None
    max_catch_up: int | None = Field(default=None, ge=1, le=100)
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse (`tentacle.schedule_invalid`) if not current."
    )


class ScheduleRefV1(ContractModel):
    schedule_id: SubjectToken


class ListSchedulesV1(ContractModel):
    include_disabled: bool = True
    limit: int = Field(default=100, ge=1, le=500)


class ScheduleV1(ContractModel):
    schedule_id: SubjectToken
    org_id: OrgId
    name: str | None = None
    goal: str
    cron: str | None = None
    interval_seconds: int | None = None
    timezone: str
    follows_org_zone: bool = Field(
        default=False, description="The zone is the org's, and moves when the org's does."
    )
    start_at: datetime
    missed: MissedPolicy
    max_catch_up: int
    enabled: bool
    next_run_at: datetime | None = Field(description="The next occurrence (None when disabled).")
    last_run_at: datetime | None = None
    run_count: int = 0
    version: int
    created_by: Actor
    created_at: datetime
    updated_at: datetime


class ScheduleListV1(ContractModel):
    schedules: list[ScheduleV1]


class ScheduleDeletedV1(ContractModel):
    schedule_id: SubjectToken


def _schedule_rpc(
    verb: str, payload: type[Any], reply: type[Any], summary: str
) -> Subject[Any, Any]:
    return rpc(SERVICE, "schedule", verb, payload, reply, summary=summary)


SCHEDULE_CREATE = _schedule_rpc(
    "create", CreateScheduleV1, ScheduleV1, "Create a scheduled task (cron or interval)."
)
SCHEDULE_GET = _schedule_rpc("get", ScheduleRefV1, ScheduleV1, "One schedule of the org.")
SCHEDULE_LIST = _schedule_rpc(
    "list", ListSchedulesV1, ScheduleListV1, "The organisation's schedules, newest first."
)
SCHEDULE_UPDATE = _schedule_rpc(
    "update", UpdateScheduleV1, ScheduleV1, "Change a schedule's goal, timing or policy."
)
SCHEDULE_ENABLE = _schedule_rpc(
    "enable", ScheduleRefV1, ScheduleV1, "Run a schedule again, from its next occurrence."
)
SCHEDULE_DISABLE = _schedule_rpc(
    "disable", ScheduleRefV1, ScheduleV1, "Stop a schedule (occurrences meanwhile never run)."
)
SCHEDULE_DELETE = _schedule_rpc(
    "delete", ScheduleRefV1, ScheduleDeletedV1, "Delete a schedule; tasks it started carry on."
)

SCHEDULE_SUBJECTS: tuple[Subject[Any, Any], ...] = (
    SCHEDULE_CREATE,
    SCHEDULE_GET,
    SCHEDULE_LIST,
    SCHEDULE_UPDATE,
    SCHEDULE_ENABLE,
    SCHEDULE_DISABLE,
    SCHEDULE_DELETE,
)

ORG_ZONES_CONSUMER: Final = Consumer(
    durable="tentacle-org-zones",
    service=SERVICE,
    stream=INKPASS_EVENTS,
    subject=ORG_SETTINGS_CHANGED,
    description="Keep each org's time zone; move the schedules that follow it.",
    ack_wait=timedelta(seconds=15),
    max_deliver=10,
    backoff=PATIENT_BACKOFF,
    jitter=0.2,
    concurrency=8,
    # From the start: the zone of every org that ever changed it is needed, not only of
    # those changing it from now on.
    deliver_policy=DeliverPolicy.ALL,
)

SCHEDULE_CONSUMERS: tuple[Consumer[Any], ...] = (ORG_ZONES_CONSUMER,)
