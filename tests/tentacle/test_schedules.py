"""Scheduled tasks on the real servers: the schedule RPCs, bad input, and sweeps with an
injected clock (each occurrence once across replicas, missed runs by policy, disabled never)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.tentacle.models import ListTasksV1, TaskStatus, task_id_for
from contracts.tentacle.schedules import (
    SCHEDULE_CREATE,
    SCHEDULE_DELETE,
    SCHEDULE_DISABLE,
    SCHEDULE_ENABLE,
    SCHEDULE_GET,
    SCHEDULE_LIST,
    SCHEDULE_UPDATE,
    CreateScheduleV1,
    ListSchedulesV1,
    ScheduleRefV1,
    ScheduleV1,
    UpdateScheduleV1,
)
from contracts.tentacle.subjects import TASK_LIST
from shared.bus import Bus, RemoteError
from shared.db.urls import to_asyncpg_dsn
from shared.service import ServiceApp
from tentacle.adapters.pg import TaskDb, ordered_publisher
from tentacle.service.run_schedules import run_due_schedules, run_request_id
from tentacle.service.trigger_deps import TriggerDeps
from tests.tentacle.conftest import ORG, Caller

# Far enough ahead that the service's own sweep (on the real clock) never reaches them.
START = datetime(2030, 1, 1, tzinfo=UTC)


def at(hour: int, minute: int = 0, second: int = 0, day: int = 1) -> datetime:
    return datetime(2030, 1, day, hour, minute, second, tzinfo=UTC)


async def make(caller: Caller, **fields: Any) -> ScheduleV1:
    values: dict[str, Any] = {
        "goal": "Tell a programming joke",
        "cron": "0 9 * * *",
        "timezone": "Europe/Paris",
        "start_at": START.isoformat(),
    }
    values.update(fields)
    try:
        request = CreateScheduleV1.model_validate(values)
    except ValidationError:  # sent anyway, as a careless client would
        request = CreateScheduleV1.model_construct(**values)
    result: ScheduleV1 = await caller.ask(SCHEDULE_CREATE, request)
    return result


async def fetch(caller: Caller, schedule_id: str) -> ScheduleV1:
    result: ScheduleV1 = await caller.ask(SCHEDULE_GET, ScheduleRefV1(schedule_id=schedule_id))
    return result


@pytest.fixture
async def replicas(tentacle: ServiceApp, bus: Bus) -> AsyncIterator[list[TriggerDeps]]:
    """Two more sweepers on their own pools, as two replicas would run them."""
    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    pools = [
        TaskDb(lambda: to_asyncpg_dsn(url), ordered_publisher(bus.publish_message))
        for _ in range(2)
    ]
    for pool in pools:
        await pool.connect()
    yield [TriggerDeps(db=pool, platform=tentacle.settings.platform) for pool in pools]
    for pool in pools:
        await pool.close()


async def sweep(replicas: list[TriggerDeps], now: datetime, rounds: int = 3) -> list[str]:
    """Every replica sweeps `rounds` times at once; the tasks they created, together."""
    results = await asyncio.gather(*(run_due_schedules(r, now) for r in replicas * rounds))
    return [task for result in results for task in result]


# ---------------------------------------------------------------------------- the RPCs
async def test_schedules_are_created_read_paused_and_deleted_per_org(
    tentacle: ServiceApp, caller: Caller, stranger: Caller
) -> None:
    schedule = await make(caller, name="morning joke")
    # 9:00 in Paris on 1 January is 08:00 UTC.
    assert schedule.next_run_at == at(8)
    assert schedule.org_id == ORG
    assert await fetch(caller, schedule.schedule_id) == schedule
    listed = await caller.ask(SCHEDULE_LIST, ListSchedulesV1())
    assert [s.schedule_id for s in listed.schedules] == [schedule.schedule_id]
    assert (await stranger.ask(SCHEDULE_LIST, ListSchedulesV1())).schedules == []
    for subject in (SCHEDULE_GET, SCHEDULE_DISABLE, SCHEDULE_DELETE):
        with pytest.raises(RemoteError) as caught:
            await stranger.ask(subject, ScheduleRefV1(schedule_id=schedule.schedule_id))
        assert caught.value.code == "tentacle.schedule_not_found"

    paused = await caller.ask(SCHEDULE_DISABLE, ScheduleRefV1(schedule_id=schedule.schedule_id))
    assert not paused.enabled
    assert paused.next_run_at is None
    resumed = await caller.ask(SCHEDULE_ENABLE, ScheduleRefV1(schedule_id=schedule.schedule_id))
    assert resumed.next_run_at == at(8)
    await caller.ask(SCHEDULE_DELETE, ScheduleRefV1(schedule_id=schedule.schedule_id))
    with pytest.raises(RemoteError) as caught:
        await fetch(caller, schedule.schedule_id)
    assert caught.value.code == "tentacle.schedule_not_found"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"cron": "0 0 30 2 *"}, "tentacle.schedule_never_fires"),
        ({"cron": "0 25 * * *"}, "tentacle.schedule_invalid"),
        ({"timezone": "Europe/Atlantis"}, "tentacle.schedule_invalid"),
        ({"interval_seconds": 3600}, "tentacle.schedule_invalid"),
        ({"cron": None}, "tentacle.schedule_invalid"),
        ({"cron": None, "interval_seconds": 5}, "bus.invalid_payload"),
        ({"missed": "sometimes"}, "bus.invalid_payload"),
    ],
)
async def test_bad_schedules_are_refused_with_a_code_and_change_nothing(
    tentacle: ServiceApp, caller: Caller, fields: dict[str, Any], code: str
) -> None:
    with pytest.raises(RemoteError) as caught:
        await make(caller, **fields)
    assert caught.value.code == code
    assert (await caller.ask(SCHEDULE_LIST, ListSchedulesV1())).schedules == []


# ---------------------------------------------------------------------------- sweeps
async def test_each_occurrence_runs_once_across_replicas(
    tentacle: ServiceApp, caller: Caller, replicas: list[TriggerDeps]
) -> None:
    schedule = await make(caller)
    assert await sweep(replicas, at(7, 59, 59)) == []  # not yet
    created = await sweep(replicas, at(8, 0, 5))
    assert len(created) == 1
    done = await caller.wait(created[0], timeout=60)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.task.goal == "Tell a programming joke"
    assert done.task.created_by == caller.actor
    after = await fetch(caller, schedule.schedule_id)
    assert after.run_count == 1
    assert after.last_run_at == at(8)
    assert after.next_run_at == at(8, day=2)
    assert await sweep(replicas, at(8, 30)) == []  # the occurrence ran already
    assert len(await sweep(replicas, at(8, 0, 1, day=2))) == 1


@pytest.mark.parametrize(
    ("missed", "runs_at_5_30"),
    [("skip", 0), ("run_once", 1), ("run_all", 3)],
)
async def test_runs_missed_while_down_follow_the_schedule_policy(
    tentacle: ServiceApp,
    caller: Caller,
    replicas: list[TriggerDeps],
    missed: str,
    runs_at_5_30: int,
) -> None:
    schedule = await make(caller, cron=None, interval_seconds=3600, missed=missed, max_catch_up=3)
    assert schedule.next_run_at == START
    # Nothing swept from midnight until 05:30: six hourly runs were missed.
    created = await sweep(replicas, at(5, 30))
    assert len(created) == runs_at_5_30
    after = await fetch(caller, schedule.schedule_id)
    assert after.next_run_at == at(6)
    assert after.run_count == runs_at_5_30
    for task_id in created:
        await caller.wait(task_id, timeout=60)
    # Back on time: the next occurrence runs whatever the policy.
    assert len(await sweep(replicas, at(6, 0, 10))) == 1


async def test_a_disabled_schedule_never_runs(
    tentacle: ServiceApp, caller: Caller, replicas: list[TriggerDeps]
) -> None:
    schedule = await make(caller, enabled=False)
    assert schedule.next_run_at is None
    assert await sweep(replicas, at(9, day=3)) == []
    active = await make(caller)
    await caller.ask(SCHEDULE_DISABLE, ScheduleRefV1(schedule_id=active.schedule_id))
    assert await sweep(replicas, at(9, day=3)) == []
    assert (await fetch(caller, active.schedule_id)).run_count == 0


async def test_the_service_sweeps_schedules_on_its_own(
    tentacle: ServiceApp, caller: Caller
) -> None:
    # A real-clock occurrence a moment from now, for the service's background sweep.
    start = datetime.now(UTC) + timedelta(seconds=2)
    schedule = await make(
        caller, cron=None, interval_seconds=3600, timezone="UTC", start_at=start.isoformat()
    )
    deadline = asyncio.get_running_loop().time() + 60
    while (current := await fetch(caller, schedule.schedule_id)).run_count == 0:
        assert asyncio.get_running_loop().time() < deadline, "the sweep never ran it"
        await asyncio.sleep(0.2)
    assert current.last_run_at == schedule.next_run_at
    assert schedule.next_run_at is not None
    # The task is created from the staged command, a moment after the run is recorded.
    task_id = task_id_for(ORG, run_request_id(schedule.schedule_id, schedule.next_run_at))
    done = await caller.wait(task_id, timeout=60)
    assert done.task.goal == "Tell a programming joke"
    assert [t.task_id for t in (await caller.ask(TASK_LIST, ListTasksV1())).tasks] == [task_id]


async def test_a_schedule_is_changed_whole_or_not_at_all(
    tentacle: ServiceApp, caller: Caller, stranger: Caller
) -> None:
    schedule = await make(caller)
    evening = await caller.ask(
        SCHEDULE_UPDATE,
        UpdateScheduleV1(schedule_id=schedule.schedule_id, cron="0 18 * * *", expected_version=1),
    )
    assert evening.next_run_at == at(17)  # 18:00 in Paris
    assert evening.version == 2
    hourly = await caller.ask(
        SCHEDULE_UPDATE, UpdateScheduleV1(schedule_id=schedule.schedule_id, interval_seconds=3600)
    )
    assert hourly.cron is None
    assert hourly.interval_seconds == 3600
    assert hourly.next_run_at == START
    for change, code in (
        ({"timezone": "Nowhere/Else"}, "tentacle.schedule_invalid"),
        ({"cron": "0 0 31 2 *"}, "tentacle.schedule_never_fires"),
        ({"goal": "stale", "expected_version": 1}, "tentacle.schedule_invalid"),
    ):
        with pytest.raises(RemoteError) as caught:
            await caller.ask(
                SCHEDULE_UPDATE, UpdateScheduleV1(schedule_id=schedule.schedule_id, **change)
            )
        assert caught.value.code == code
    with pytest.raises(RemoteError) as caught:
        await stranger.ask(
            SCHEDULE_UPDATE, UpdateScheduleV1(schedule_id=schedule.schedule_id, goal="mine")
        )
    assert caught.value.code == "tentacle.schedule_not_found"
    assert await fetch(caller, schedule.schedule_id) == hourly
