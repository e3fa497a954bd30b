"""Consumer idempotency: a redelivered message changes nothing twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from nats.js import JetStreamContext
from sqlalchemy import func, text, update

from contracts.ids import InvalidToken, new_id
from shared.db.database import Database
from shared.db.dedupe import prune_processed
from shared.db.tables import processed_messages
from tests.shared.db.conftest import JsPublisher
from tests.shared.db.streams import message, stream_messages


async def wait_until_blocked_on_a_lock(db: Database, application: str) -> None:
    """Return once a session of `db` is waiting for a row lock (no fixed sleep)."""
    async with db.engine.connect() as conn:
        for _ in range(1000):
            waiting = await conn.scalar(
                text(
                    "select count(*) from pg_stat_activity "
                    "where wait_event_type = 'Lock' and datname = current_database()"
                )
            )
            if waiting:
                return
            await conn.rollback()
            await asyncio.sleep(0.005)
    raise AssertionError(f"no {application} session ever waited on a lock")


async def test_first_claim_wins_and_redelivery_is_refused(shared_db: Database) -> None:
    async with shared_db.transaction() as uow:
        assert await uow.claim_message("notes-consumer", "m-1") is True
    async with shared_db.transaction() as uow:
        assert await uow.claim_message("notes-consumer", "m-1") is False
        # Claims are per consumer: another durable processes the same message on its own.
        assert await uow.claim_message("audit-consumer", "m-1") is True


async def test_a_failed_handler_releases_its_claim(shared_db: Database) -> None:
    async def crashing_handler() -> None:
        async with shared_db.transaction() as uow:
            assert await uow.claim_message("c", "m-1")
            raise RuntimeError("handler crashed")

    with pytest.raises(RuntimeError):
        await crashing_handler()
    async with shared_db.transaction() as uow:
        assert await uow.claim_message("c", "m-1") is True


@pytest.mark.parametrize("first_commits", [True, False])
async def test_racing_deliveries_serialise_on_the_claim(
    shared_db: Database, first_commits: bool
) -> None:
    first_claimed = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with shared_db.transaction() as uow:
            assert await uow.claim_message("c", "m-race")
            first_claimed.set()
            await release_first.wait()
            if not first_commits:
                raise RuntimeError("first delivery failed")

    async def second() -> bool:
        await first_claimed.wait()
        async with shared_db.transaction() as uow:
            return await uow.claim_message("c", "m-race")

    first_task = asyncio.create_task(first())
    second_task = asyncio.create_task(second())
    await wait_until_blocked_on_a_lock(shared_db, "second delivery")
    assert not second_task.done()
    release_first.set()
    if first_commits:
        await first_task
    else:
        with pytest.raises(RuntimeError):
            await first_task
    assert await second_task is (not first_commits)


async def test_a_redelivered_handler_writes_and_publishes_once(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    shared_db.publisher = js_publisher
    async with shared_db.transaction() as uow:
        await uow.session.execute(text("create table tally (n int)"))

    incoming_id = new_id()

    async def handle() -> None:
        async with shared_db.transaction(org_id="acme") as uow:
            if not await uow.claim_message("tally-consumer", incoming_id):
                return
            await uow.session.execute(text("insert into tally values (1)"))
            uow.publish(message("test.tallied"))

    for _ in range(3):
        await handle()
    async with shared_db.transaction() as uow:
        assert await uow.session.scalar(text("select count(*) from tally")) == 1
    assert [m.subject for m in await stream_messages(js)] == ["test.tallied"]


@pytest.mark.parametrize(("consumer", "message_id"), [("a.b", "m"), ("c", "m.>"), ("", "m")])
async def test_claims_refuse_ids_that_are_not_tokens(
    shared_db: Database, consumer: str, message_id: str
) -> None:
    with pytest.raises(InvalidToken):
        async with shared_db.transaction() as uow:
            await uow.claim_message(consumer, message_id)


async def test_old_claims_are_pruned(shared_db: Database) -> None:
    async with shared_db.transaction() as uow:
        for n in range(5):
            await uow.claim_message("c", f"m-{n}")
        await uow.session.execute(
            update(processed_messages)
            .where(processed_messages.c.message_id.in_(["m-0", "m-1", "m-2"]))
            .values(processed_at=func.now() - timedelta(days=30))
        )
    assert await prune_processed(shared_db.engine, timedelta(days=14), batch_size=2) == 3
    async with shared_db.transaction() as uow:
        assert await uow.claim_message("c", "m-0") is True  # forgotten
        assert await uow.claim_message("c", "m-4") is False  # still remembered
