"""Tentacle's outbox rows are leased to their writer (`shared.db.outbox`): the relay leaves them
alone while this process sends them, and gets them at once when it cannot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.tentacle.models import TaskStatus
from shared.bus.codec import OutboundMessage
from shared.db.outbox import PUBLISH_LEASE
from shared.db.urls import to_asyncpg_dsn
from shared.service import ServiceApp
from tentacle.adapters import pg
from tentacle.adapters.pg import TaskDb
from tentacle.adapters.plan_cache import PlanCache
from tentacle.adapters.task_store import TaskStore
from tentacle.domain import commands
from tentacle.domain.cycle import Cycle
from tests.tentacle.conftest import ORG, USER, Caller
from tests.tentacle.test_commands import approval_plan


class Publisher:
    """Records what it is asked to send; fails while `down`."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.down = False

    async def __call__(self, messages: Sequence[OutboundMessage]) -> None:
        if self.down:
            raise ConnectionError("NATS is away")
        self.sent.extend(messages)


@pytest.fixture
async def db(tentacle: ServiceApp) -> AsyncIterator[tuple[TaskDb, Publisher]]:
    publisher = Publisher()
    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    store = TaskDb(lambda: to_asyncpg_dsn(url), publisher, min_size=1)
    await store.connect()
    yield store, publisher
    await store.close()


async def _pause(taskdb: TaskDb, caller: Caller) -> list[str]:
    """Pause a task through a one-statement cycle write; the message ids it staged."""
    task = await caller.create("lease", plan=approval_plan())
    await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
    store = TaskStore(PlanCache())
    async with taskdb.statement(org_id=ORG) as tx:
        state = await store.load(tx.conn, task.task_id)
    assert state is not None
    async with taskdb.statement(org_id=ORG) as tx:
        cycle = Cycle(state, datetime.now(UTC))
        commands.pause(cycle, USER, "lease test")
        assert await store.apply(tx, cycle, recovery_after_s=60)
        staged = [m.message_id for _, m in tx.written]
    assert staged
    return staged


async def _rows(taskdb: TaskDb, message_ids: list[str]) -> list[Any]:
    async with taskdb.pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT message_id, next_attempt_at, published_at FROM fluxos_outbox"
                " WHERE message_id = ANY($1::text[])",
                message_ids,
            )
        )


async def test_a_cycle_writes_its_rows_leased_and_sends_them_itself(
    db: tuple[TaskDb, Publisher], caller: Caller
) -> None:
    taskdb, publisher = db
    before = datetime.now(UTC)
    staged = await _pause(taskdb, caller)
    assert [m.message_id for m in publisher.sent] == staged
    rows = await _rows(taskdb, staged)
    assert len(rows) == len(staged)
    for row in rows:  # the relay's only after the lease: it does not send them too
        assert row["next_attempt_at"] >= before + PUBLISH_LEASE - timedelta(seconds=1)


async def test_a_transaction_writes_its_rows_leased(
    db: tuple[TaskDb, Publisher], caller: Caller
) -> None:
    taskdb, publisher = db
    staged = await _pause(taskdb, caller)
    extra = OutboundMessage(
        subject=publisher.sent[0].subject,
        body=publisher.sent[0].body,
        message_id=staged[0] + "-again",
        headers={},
    )
    async with taskdb.transaction(org_id=ORG) as tx:
        tx.publish(extra)
    (row,) = await _rows(taskdb, [extra.message_id])
    assert row["next_attempt_at"] > datetime.now(UTC) + timedelta(seconds=20)


async def test_rows_it_cannot_send_are_given_back_to_the_relay_at_once(
    db: tuple[TaskDb, Publisher], caller: Caller
) -> None:
    taskdb, publisher = db
    publisher.down = True
    staged = await _pause(taskdb, caller)
    assert publisher.sent == []
    # Due now: the relay sends them (it may already have; it leaves the lease column empty).
    assert all(row["next_attempt_at"] is None for row in await _rows(taskdb, staged))


async def test_a_lease_run_short_before_sending_is_given_back_unsent(
    db: tuple[TaskDb, Publisher], caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    taskdb, publisher = db
    # No time left to send in: the deadline is the moment the write began.
    monkeypatch.setattr(pg, "PUBLISH_ALLOWANCE", PUBLISH_LEASE)
    staged = await _pause(taskdb, caller)
    assert publisher.sent == []
    assert all(row["next_attempt_at"] is None for row in await _rows(taskdb, staged))
