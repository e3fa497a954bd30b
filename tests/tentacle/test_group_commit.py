"""Group commit: one-statement cycle writes ready together go out as one transaction, yet each
keeps its own version check, and one failing write fails only itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from contracts.tentacle.models import TaskStatus
from shared.bus.codec import OutboundMessage
from shared.db.urls import to_asyncpg_dsn
from shared.service import ServiceApp
from tentacle.adapters.group_commit import GroupWriter
from tentacle.adapters.pg import TaskDb
from tentacle.adapters.plan_cache import PlanCache
from tentacle.adapters.task_store import TaskStore
from tentacle.domain import commands
from tentacle.domain.cycle import Cycle
from tentacle.domain.state import TaskState
from tests.tentacle.conftest import ORG, USER, Caller
from tests.tentacle.test_commands import approval_plan

# A versioned write shaped like the cycle's: applied only at the version it read.
_VERSIONED = """
    WITH u AS (
        UPDATE items SET version = version + 1, value = $3 WHERE id = $1 AND version = $2
        RETURNING id
    )
    SELECT (SELECT count(*) FROM u) = 1 AS applied,
           current_setting('fluxos.org_id', true) AS org
"""


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE items (id text PRIMARY KEY, version int NOT NULL,"
            " value int NOT NULL CHECK (value >= 0))"
        )
        await conn.execute("INSERT INTO items VALUES ('a', 0, 0), ('b', 0, 0), ('c', 0, 0)")
    yield pool
    await pool.close()


async def _scope(conn: Any, org: str | None) -> None:
    await conn.execute("SELECT set_config('fluxos.org_id', $1, false)", org or "")


@asynccontextmanager
async def _busy(writer: GroupWriter) -> AsyncIterator[None]:
    """Keep the writer's one batch slot busy, so the writes made meanwhile queue up and go
    out together once it is free (a write finding nothing in flight goes alone at once)."""
    hold = asyncio.create_task(writer.fetchrow(ORG, "SELECT pg_sleep(0.2)", ""))
    await asyncio.sleep(0.05)
    yield
    await hold


async def _items(pool: Any) -> dict[str, tuple[int, int]]:
    rows = await pool.fetch("SELECT id, version, value FROM items")
    return {r["id"]: (r["version"], r["value"]) for r in rows}


async def test_writes_queued_together_share_one_batch_and_conflicts_stay_their_own(
    pool: Any,
) -> None:
    writer = GroupWriter(pool.acquire, _scope, in_flight=1)
    async with _busy(writer):
        rows = await asyncio.gather(
            writer.fetchrow(ORG, _VERSIONED, "c", "c", 0, 3),
            writer.fetchrow(ORG, _VERSIONED, "a", "a", 0, 1),
            writer.fetchrow(ORG, _VERSIONED, "b", "b", 7, 2),  # read an old version: loses
            writer.fetchrow(ORG, _VERSIONED, "a", "a", 0, 9),  # a second cycle of a: loses too
        )
    assert [r["applied"] for r in rows] == [True, True, False, False]
    assert (writer.batches, writer.writes) == (2, 5)  # the busy write, then one batch
    assert await _items(pool) == {"a": (1, 1), "b": (0, 0), "c": (1, 3)}


async def test_a_failing_write_fails_alone_and_the_others_commit(pool: Any) -> None:
    writer = GroupWriter(pool.acquire, _scope, in_flight=1)
    async with _busy(writer):
        results: tuple[Any, ...] = await asyncio.gather(
            writer.fetchrow(ORG, _VERSIONED, "a", "a", 0, 1),
            writer.fetchrow(ORG, _VERSIONED, "b", "b", 0, -1),  # violates the check
            writer.fetchrow(ORG, _VERSIONED, "c", "c", 0, 3),
            return_exceptions=True,
        )
    assert results[0]["applied"]
    assert results[2]["applied"]
    assert isinstance(results[1], asyncpg.CheckViolationError)
    # The busy write; the batch of three failed as a whole; then each alone (two applied).
    assert (writer.batches, writer.writes) == (3, 3)
    assert await _items(pool) == {"a": (1, 1), "b": (0, 0), "c": (1, 3)}


async def test_each_organisation_writes_in_its_own_scope(pool: Any) -> None:
    writer = GroupWriter(pool.acquire, _scope, in_flight=1)
    async with _busy(writer):
        rows = await asyncio.gather(
            writer.fetchrow("acme", _VERSIONED, "a", "a", 0, 1),
            writer.fetchrow("globex", _VERSIONED, "b", "b", 0, 1),
            writer.fetchrow("acme", _VERSIONED, "c", "c", 0, 1),
        )
    assert [r["org"] for r in rows] == ["acme", "globex", "acme"]
    assert (writer.batches, writer.writes) == (3, 4)  # the busy write, then one per org


async def test_a_lone_write_goes_out_at_once(pool: Any) -> None:
    writer = GroupWriter(pool.acquire, _scope)
    row = await asyncio.wait_for(writer.fetchrow(ORG, _VERSIONED, "a", "a", 0, 1), 5)
    assert row["applied"]
    assert (writer.batches, writer.writes) == (1, 1)


async def test_a_write_arriving_as_a_batch_ends_is_not_left_behind(pool: Any) -> None:
    # Each write is queued the moment the previous one's answer arrives, while the batch
    # that answered it is still winding down: it must go out all the same.
    writer = GroupWriter(pool.acquire, _scope, in_flight=1)

    async def one_after_another(item: str) -> None:
        for version in range(3):
            row = await writer.fetchrow(ORG, _VERSIONED, item, item, version, 1)
            assert row["applied"]

    await asyncio.wait_for(one_after_another("a"), 5)  # alone: each write by its caller
    async with _busy(writer):  # together: queued, drained in batches
        await asyncio.wait_for(asyncio.gather(*(one_after_another(item) for item in ("b", "c"))), 5)
    assert writer.writes == 3 + 1 + 6
    assert await _items(pool) == {"a": (3, 1), "b": (3, 1), "c": (3, 1)}


# ====================================================================== real cycle writes
@pytest.fixture
async def db(tentacle: ServiceApp) -> AsyncIterator[tuple[TaskDb, list[OutboundMessage]]]:
    published: list[OutboundMessage] = []

    async def publish(messages: Sequence[OutboundMessage]) -> None:
        published.extend(messages)

    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    store = TaskDb(lambda: to_asyncpg_dsn(url), publish, min_size=1, group_in_flight=1)
    await store.connect()
    yield store, published
    await store.close()


async def test_batched_cycles_with_a_stale_one_commit_the_others(
    db: tuple[TaskDb, list[OutboundMessage]], caller: Caller
) -> None:
    taskdb, published = db
    ids = []
    for n in range(3):
        task = await caller.create(f"hold {n}", plan=approval_plan())
        await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
        ids.append(task.task_id)
    store = TaskStore(PlanCache())
    states: list[TaskState] = []
    for task_id in ids:
        async with taskdb.statement(org_id=ORG) as tx:
            state = await store.load(tx.conn, task_id)
        assert state is not None
        states.append(state)
    versions = [s.version for s in states]
    states[1].version -= 1  # as if another cycle had moved it on since this copy was read

    async def pause(state: TaskState) -> bool:
        async with taskdb.statement(org_id=ORG) as tx:
            cycle = Cycle(state, datetime.now(UTC))
            commands.pause(cycle, USER, "group commit test")
            return await store.apply(tx, cycle, recovery_after_s=60)

    async with _busy(taskdb.group):
        applied = await asyncio.gather(*(pause(s) for s in states))
    assert applied == [True, False, True]
    assert (taskdb.group.batches, taskdb.group.writes) == (2, 4)

    after = [await caller.get(task_id) for task_id in ids]
    assert [d.task.status for d in after] == [
        TaskStatus.PAUSED,
        TaskStatus.CHECKPOINT,
        TaskStatus.PAUSED,
    ]
    assert [d.task.event_seq for d in after] == [s.event_seq for s in states]
    assert states[0].version == versions[0] + 1
    assert states[2].version == versions[2] + 1
    # Only the committed cycles publish, and only after their batch committed.
    paused = {m.message_id for m in published}
    assert paused == {f"evt-{ids[0]}-{states[0].event_seq}", f"evt-{ids[2]}-{states[2].event_seq}"}
