"""Run the schedules that are due: each occurrence creates one task, across replicas.

The sweep claims due timers in platform scope (SKIP LOCKED, then leased ahead, so replicas
share the work); each schedule is then run in a transaction scoped to its organisation that
locks the schedule row, writes one run row per occurrence (unique: a second replica, or this
one after a lease ran out, finds it and runs nothing) and stages the task-create command beside
it, with a request id derived from the schedule and the occurrence. The clock is the caller's:
the background loop passes the time, tests pass theirs.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Final

from contracts.tentacle.models import CreateTaskV1, TaskConstraintsV1, task_id_for
from contracts.tentacle.subjects import TASK_CREATE
from shared.bus.codec import encode
from shared.context import new_stamp
from shared.logging import get_logger
from tentacle.adapters import schedule_store as store
from tentacle.domain.schedules import due_runs
from tentacle.domain.trigger_errors import TriggerError
from tentacle.service.manage_schedules import recurrence_of
from tentacle.service.trigger_deps import TriggerDeps

log = get_logger(__name__)

_NAMESPACE: Final = uuid.UUID("5c1e9d3a-2b7f-4e8a-9c4d-7363686564e5")
BATCH: Final = 100
GRACE: Final = timedelta(minutes=2)
"""An occurrence run later than this was missed (nothing ran at its time)."""
LEASE_S: Final = 60.0


def run_request_id(schedule_id: str, occurrence: datetime) -> str:
    return "sch-" + str(uuid.uuid5(_NAMESPACE, f"{schedule_id}\x00{occurrence.isoformat()}"))


async def run_due_schedules(
    deps: TriggerDeps, now: datetime, *, grace: timedelta = GRACE
) -> list[str]:
    """Run every schedule due at `now` (a batch of them); the ids of the tasks created."""
    async with deps.db.transaction() as tx:
        claimed = await store.claim_due(tx.conn, now, batch=BATCH, lease_s=LEASE_S)
    created: list[str] = []
    for row in claimed:
        created += await run_schedule(deps, row["org_id"], row["schedule_id"], now, grace)
    return created


async def run_schedule(
    deps: TriggerDeps, org_id: str, schedule_id: str, now: datetime, grace: timedelta = GRACE
) -> list[str]:
    """Run one schedule's due occurrences; the ids of the tasks created now."""
    created: list[str] = []
    async with deps.db.transaction(org_id=org_id) as tx:
        schedule = await store.get_schedule(tx.conn, schedule_id, for_update=True)
        if schedule is None:
            await store.drop_timer(tx.conn, schedule_id)
            return []
        if not schedule.enabled or schedule.next_run_at is None:
            await store.set_timer(tx.conn, schedule_id, org_id, None)
            return []
        try:
            recurrence = recurrence_of(schedule)
        except TriggerError:  # checked at creation; a zone database change could break it
            log.warning("schedule.unusable", schedule_id=schedule_id, exc_info=True)
            await store.set_timer(tx.conn, schedule_id, org_id, None)
            return []
        if schedule.next_run_at > now:  # run already (another replica), or a stale lease
            await store.set_timer(tx.conn, schedule_id, org_id, schedule.next_run_at)
            return []
        runs = due_runs(
            recurrence,
            pending_from=schedule.next_run_at,
            now=now,
            policy=schedule.missed,
            max_catch_up=schedule.max_catch_up,
            grace=grace,
        )
        for occurrence in runs:
            request_id = run_request_id(schedule_id, occurrence)
            task_id = task_id_for(org_id, request_id)
            if not await store.record_run(tx.conn, schedule, occurrence, task_id, at=now):
                continue
            request = CreateTaskV1(
                request_id=request_id,
                goal=schedule.goal,
                constraints=TaskConstraintsV1(notes=f"Started by schedule {schedule_id}."),
                context={
                    "schedule": {
                        "schedule_id": schedule_id,
                        "occurrence_at": occurrence.isoformat(),
                        "timezone": schedule.timezone,
                        "local_time": occurrence.astimezone(recurrence.tz).isoformat(),
                    }
                },
            )
            stamp = new_stamp(
                "CreateTaskV1",
                org_id=org_id,
                actor=schedule.created_by,
                message_id=request_id,
                default_actor=schedule.created_by,
            )
            tx.publish(encode(TASK_CREATE, request, stamp))
            created.append(task_id)
        missed = [t for t in runs if now - t > grace]
        if len(runs) != len(created) or missed:
            log.info("schedule.caught_up", schedule_id=schedule_id, runs=len(created))
        await store.advance(
            tx.conn,
            schedule,
            next_run_at=recurrence.next_after(now),
            ran_at=runs[-1] if created else None,
            runs=len(created),
        )
    return created


async def watch_schedules(deps: TriggerDeps, period_s: float) -> None:
    """Background: sweep due schedules every `period_s`."""
    while True:
        try:
            await run_due_schedules(deps, deps.clock())
        except asyncio.CancelledError:
            raise
        except Exception:  # the next round tries again; the database may be back by then
            log.warning("schedules.sweep_failed", exc_info=True)
        await asyncio.sleep(period_s)
