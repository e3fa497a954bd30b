"""Storage rules: row-level security (tenant tables and the agents policy), budgets that cannot
be overspent by concurrent reservations, and concurrent cycles of one task serialised."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from contracts.tentacle.models import (
    AdvanceReason,
    AdvanceTaskV1,
    PauseTaskV1,
    RegisterAgentV1,
    ResumeTaskV1,
    TaskStatus,
)
from contracts.tentacle.subjects import AGENT_REGISTER, TASK_ADVANCE, TASK_PAUSE, TASK_RESUME
from shared.bus import Bus, RemoteError
from shared.bus.codec import OutboundMessage
from shared.db.urls import to_asyncpg_dsn
from shared.llm import BudgetExceeded, BudgetScope
from shared.service import ServiceApp
from tentacle.adapters.ledger import TaskLedger
from tentacle.adapters.pg import Conn, TaskDb
from tests.tentacle.conftest import ORG, OTHER_ORG, Caller, lifecycle
from tests.tentacle.test_capabilities import HAIKU
from tests.tentacle.test_commands import approval_plan, approve

NOOP = {"steps": [{"id": "a", "agent": "noop"}]}


async def _nowhere(messages: Sequence[OutboundMessage]) -> None:
    raise AssertionError("nothing here publishes")


@pytest.fixture
async def db(tentacle: ServiceApp) -> AsyncIterator[TaskDb]:
    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    store = TaskDb(lambda: to_asyncpg_dsn(url), _nowhere, min_size=1, max_size=30)
    await store.connect()
    yield store
    await store.close()


async def scalar(db: TaskDb, org: str | None, sql: str, *args: Any) -> Any:
    async with db.transaction(org_id=org) as tx:
        return await tx.conn.fetchval(sql, *args)


async def test_tenant_rows_are_invisible_and_unwritable_across_organisations(
    db: TaskDb, caller: Caller
) -> None:
    task = await caller.create("mine", plan=NOOP)
    assert await scalar(db, ORG, "SELECT count(*) FROM tasks") == 1
    assert await scalar(db, OTHER_ORG, "SELECT count(*) FROM tasks") == 0
    assert await scalar(db, None, "SELECT count(*) FROM tasks") == 0
    assert await scalar(db, OTHER_ORG, "SELECT count(*) FROM task_events") == 0
    changed = await scalar(
        db,
        OTHER_ORG,
        "WITH u AS (UPDATE tasks SET goal = 'stolen' WHERE id = $1 RETURNING 1)"
        " SELECT count(*) FROM u",
        task.task_id,
    )
    assert changed == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # row-level security refuses it
        async with db.transaction(org_id=OTHER_ORG) as tx:
            await tx.conn.execute(
                "INSERT INTO plans (task_id, version, org_id, document, why)"
                " VALUES ($1, 9, $2, '{}'::jsonb, 'forged')",
                task.task_id,
                ORG,
            )
    assert (await caller.get(task.task_id)).task.goal == "mine"


async def test_built_in_agents_are_shared_and_custom_ones_private(
    db: TaskDb, caller: Caller
) -> None:
    await caller.ask(AGENT_REGISTER, RegisterAgentV1(yaml=HAIKU))
    builtin = await scalar(db, None, "SELECT count(*) FROM agents")
    assert builtin == 9
    assert await scalar(db, ORG, "SELECT count(*) FROM agents") == builtin + 1
    assert await scalar(db, OTHER_ORG, "SELECT count(*) FROM agents") == builtin
    hijacked = await scalar(
        db,
        ORG,
        "WITH u AS (UPDATE agents SET description = 'mine now' WHERE org_id IS NULL"
        " RETURNING 1) SELECT count(*) FROM u",
    )
    assert hijacked == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with db.transaction(org_id=ORG) as tx:
            await tx.conn.execute(
                "INSERT INTO agents (id, org_id, name, kind, domain, description, spec,"
                " spec_hash) VALUES ('x', NULL, 'fake', 'agent', 'x', 'x', '{}', 'x')"
            )


async def _no_agent_limit(conn: Conn, name: str) -> Decimal | None:
    return None


async def test_concurrent_reservations_cannot_overspend_any_budget(
    db: TaskDb, caller: Caller
) -> None:
    task = await caller.create("spend", plan=NOOP, budget_usd=Decimal("1.00"))
    await caller.wait(task.task_id)
    ledger = TaskLedger(db, daily_limit_usd=Decimal("100"), agent_limit=_no_agent_limit)
    scope = BudgetScope(org_id=ORG, task_id=task.task_id, agent="summarize")
    results = await asyncio.gather(
        *(ledger.reserve(scope, Decimal("0.15")) for _ in range(20)), return_exceptions=True
    )
    held = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert (len(held), len(refused)) == (6, 14)
    assert {r.scope for r in refused} == {"task"}
    for reservation in held[:3]:
        await ledger.settle(reservation, Decimal("0.10"))
    for reservation in held[3:]:
        await ledger.release(reservation)
    usage = await scalar(
        db,
        ORG,
        "SELECT held::text || '/' || spent::text FROM budget_usage WHERE key = $1",
        task.task_id,
    )
    assert usage == "0.00000000/0.30000000"
    # What was released is free again; what was spent is not.
    more = await asyncio.gather(
        *(ledger.reserve(scope, Decimal("0.15")) for _ in range(10)), return_exceptions=True
    )
    assert sum(isinstance(r, str) for r in more) == 4

    daily = TaskLedger(db, daily_limit_usd=Decimal("0.05"), agent_limit=_no_agent_limit)
    with pytest.raises(BudgetExceeded) as caught:
        await daily.reserve(BudgetScope(org_id=ORG), Decimal("0.10"))
    assert caught.value.scope == "org_day"


async def test_concurrent_cycles_of_one_task_are_serialised(
    tentacle: ServiceApp, caller: Caller, bus: Bus
) -> None:
    task = await caller.create("contended", plan=approval_plan())
    await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)

    async def poke(n: int) -> None:
        if n % 3:
            await bus.publish(
                TASK_ADVANCE,
                AdvanceTaskV1(task_id=task.task_id, reason=AdvanceReason.RECOVERY),
                org_id=ORG,
            )
            return
        subject, payload = (
            (TASK_PAUSE, PauseTaskV1(task_id=task.task_id))
            if n % 2
            else (TASK_RESUME, ResumeTaskV1(task_id=task.task_id))
        )
        try:
            await caller.ask(subject, payload)
        except RemoteError as exc:  # already paused, or not paused: refused, fine
            refusals.append(exc.code)

    refusals: list[str] = []
    await asyncio.gather(*(poke(n) for n in range(60)))
    assert set(refusals) <= {"tentacle.invalid_transition"}
    detail = await caller.get(task.task_id)
    if detail.task.status is TaskStatus.PAUSED:
        await caller.ask(TASK_RESUME, ResumeTaskV1(task_id=task.task_id))
    detail = await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
    assert len(detail.checkpoints) == 1  # asked once, however many cycles ran
    await approve(caller, task.task_id, detail.checkpoints[0].checkpoint_id)
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    events = await lifecycle(bus, task.task_id)
    assert sorted(e.seq for e in events) == list(range(1, done.task.event_seq + 1))
