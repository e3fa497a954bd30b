"""Create, read, enable, disable and delete an organisation's scheduled tasks.

A schedule is checked whole before it is written: the time zone exists, the cron expression
parses and names a time that comes, the interval is in range.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.envelope import Meta
from contracts.ids import new_id
from contracts.tentacle.schedules import (
    CreateScheduleV1,
    ListSchedulesV1,
    ScheduleDeletedV1,
    ScheduleListV1,
    ScheduleRefV1,
    ScheduleV1,
    UpdateScheduleV1,
)
from contracts.tentacle.trigger_errors import TriggerErrorCode
from tentacle.adapters import schedule_store as store
from tentacle.domain.schedules import Recurrence
from tentacle.domain.trigger_errors import TriggerError
from tentacle.service.deps import require_org
from tentacle.service.trigger_deps import TriggerDeps


def recurrence_of(s: ScheduleV1) -> Recurrence:
    return Recurrence.parse(
        cron=s.cron, interval_seconds=s.interval_seconds, timezone=s.timezone, anchor=s.start_at
    )


def _not_found(schedule_id: str) -> TriggerError:
    return TriggerError(TriggerErrorCode.SCHEDULE_NOT_FOUND, f"no schedule {schedule_id}")


def rescheduled(changed: ScheduleV1, now: datetime) -> ScheduleV1:
    """`changed` checked whole, carrying on from its next occurrence under its (new) rule."""
    recurrence = recurrence_of(changed)
    if not changed.enabled:
        return changed
    return changed.model_copy(
        update={
            "cron": recurrence.cron,
            "next_run_at": recurrence.next_after(
                max(now, changed.start_at) - timedelta(microseconds=1)
            ),
        }
    )


async def create_schedule(deps: TriggerDeps, request: CreateScheduleV1, meta: Meta) -> ScheduleV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        follows = request.timezone is None
        timezone = request.timezone or await store.org_zone(tx.conn, org_id)
        return await store.insert_schedule(
            tx.conn, _new_schedule(deps, request, meta, org_id, timezone, follows=follows)
        )


def _new_schedule(
    deps: TriggerDeps,
    request: CreateScheduleV1,
    meta: Meta,
    org_id: str,
    timezone: str,
    *,
    follows: bool,
) -> ScheduleV1:
    now = deps.clock()
    start = request.start_at or now
    recurrence = Recurrence.parse(
        cron=request.cron,
        interval_seconds=request.interval_seconds,
        timezone=timezone,
        anchor=start,
    )
    return ScheduleV1(
        schedule_id=new_id(),
        org_id=org_id,
        name=request.name,
        goal=request.goal,
        cron=recurrence.cron,
        interval_seconds=request.interval_seconds,
        timezone=timezone,
        follows_org_zone=follows,
        start_at=start,
        missed=request.missed,
        max_catch_up=request.max_catch_up,
        enabled=request.enabled,
        # The first occurrence at or after now (or the start): nothing before creation runs.
        next_run_at=recurrence.next_after(max(now, start) - timedelta(microseconds=1))
        if request.enabled
        else None,
        version=1,
        created_by=meta.actor,
        created_at=now,
        updated_at=now,
    )


async def get_schedule(deps: TriggerDeps, request: ScheduleRefV1, meta: Meta) -> ScheduleV1:
    async with deps.db.statement(org_id=require_org(meta)) as tx:
        found = await store.get_schedule(tx.conn, request.schedule_id)
    if found is None:
        raise _not_found(request.schedule_id)
    return found


async def list_schedules(deps: TriggerDeps, request: ListSchedulesV1, meta: Meta) -> ScheduleListV1:
    async with deps.db.statement(org_id=require_org(meta)) as tx:
        found = await store.list_schedules(
            tx.conn, include_disabled=request.include_disabled, limit=request.limit
        )
    return ScheduleListV1(schedules=found)


async def update_schedule(deps: TriggerDeps, request: UpdateScheduleV1, meta: Meta) -> ScheduleV1:
    given = request.model_dump(exclude={"schedule_id", "expected_version", "follow_org_zone"})
    changes: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    if "cron" in changes:
        changes["interval_seconds"] = None
    elif "interval_seconds" in changes:
        changes["cron"] = None
    if request.timezone is not None and request.follow_org_zone:
        raise TriggerError(
            TriggerErrorCode.SCHEDULE_INVALID,
            "give a time zone of its own, or follow the org's, not both",
        )
    if request.timezone is not None or request.follow_org_zone is False:
        changes["follows_org_zone"] = False
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        if request.follow_org_zone:
            changes["follows_org_zone"] = True
            changes["timezone"] = await store.org_zone(tx.conn, org_id)
        current = await store.get_schedule(tx.conn, request.schedule_id, for_update=True)
        if current is None:
            raise _not_found(request.schedule_id)
        if request.expected_version not in (None, current.version):
            raise TriggerError(
                TriggerErrorCode.SCHEDULE_INVALID,
                f"schedule {request.schedule_id} is at version {current.version}, "
                f"not {request.expected_version}",
                details={"version": current.version},
            )
        changed = ScheduleV1.model_validate({**current.model_dump(), **changes})
        now = deps.clock()
        return await store.save_schedule(tx.conn, rescheduled(changed, now), at=now)


async def enable_schedule(deps: TriggerDeps, request: ScheduleRefV1, meta: Meta) -> ScheduleV1:
    return await _set_enabled(deps, request.schedule_id, meta, enabled=True)


async def disable_schedule(deps: TriggerDeps, request: ScheduleRefV1, meta: Meta) -> ScheduleV1:
    return await _set_enabled(deps, request.schedule_id, meta, enabled=False)


async def delete_schedule(
    deps: TriggerDeps, request: ScheduleRefV1, meta: Meta
) -> ScheduleDeletedV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        if not await store.delete_schedule(tx.conn, request.schedule_id):
            raise _not_found(request.schedule_id)
    return ScheduleDeletedV1(schedule_id=request.schedule_id)


async def _set_enabled(
    deps: TriggerDeps, schedule_id: str, meta: Meta, *, enabled: bool
) -> ScheduleV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        current = await store.get_schedule(tx.conn, schedule_id, for_update=True)
        if current is None:
            raise _not_found(schedule_id)
        if current.enabled == enabled:
            return current
        now = deps.clock()
        # Re-enabled, it carries on from its next occurrence: what passed meanwhile never runs.
        next_run = recurrence_of(current).next_after(now) if enabled else None
        return await store.set_enabled(
            tx.conn, current, enabled=enabled, next_run_at=next_run, at=now
        )
