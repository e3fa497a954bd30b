"""The transactional outbox: publish after commit, nothing on rollback, recovery by the relay."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from nats.js import JetStreamContext
from nats.js.api import PubAck
from sqlalchemy import func, select, text, update

from contracts.registry import STREAMS
from shared.bus.codec import HEADER_MSG_ID, OutboundMessage
from shared.db.database import Database
from shared.db.outbox import PUBLISH_ALLOWANCE, PUBLISH_LEASE
from shared.db.relay import OutboxRelay
from shared.db.tables import outbox
from tests.shared.db.conftest import JsPublisher
from tests.shared.db.streams import message, stream_messages


async def outbox_state(db: Database) -> list[tuple[str, bool]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.subject, outbox.c.published_at.is_not(None)).order_by(outbox.c.id)
        )
        return [(subject, published) for subject, published in rows.all()]


async def test_messages_are_published_right_after_commit_in_order(
    shared_db: Database, js: JetStreamContext
) -> None:
    async def publish(msg: OutboundMessage) -> PubAck:  # what the bus's publish_message returns
        return await js.publish(msg.subject, msg.body, headers=msg.headers)

    shared_db.publisher = publish
    sent = [message("test.a"), message("test.b"), message("test.c")]
    async with shared_db.transaction(org_id="acme") as uow:
        for msg in sent:
            uow.publish(msg)
        assert await stream_messages(js) == []  # nothing leaves before the commit
    stored = await stream_messages(js)
    assert [m.subject for m in stored] == ["test.a", "test.b", "test.c"]
    assert [m.body for m in stored] == [m.body for m in sent]
    assert [m.headers[HEADER_MSG_ID] for m in stored] == [m.message_id for m in sent]
    assert stored[0].headers["Fluxos-Test"] == "kept"  # headers survive the outbox
    await shared_db.settle_marks()
    assert await outbox_state(shared_db) == [("test.a", True), ("test.b", True), ("test.c", True)]


async def test_a_message_without_msg_id_header_gets_one(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    shared_db.publisher = js_publisher
    bare = OutboundMessage(subject="test.bare", body=b"{}", message_id="m-1")
    async with shared_db.transaction() as uow:
        uow.publish(bare)
    [stored] = await stream_messages(js)
    assert stored.headers[HEADER_MSG_ID] == "m-1"


async def test_rollback_publishes_nothing_and_leaves_no_row(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    shared_db.publisher = js_publisher

    async def failing_handler() -> None:
        async with shared_db.transaction() as uow:
            uow.publish(message("test.never"))
            await uow.flush()  # written, then rolled back with everything else
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await failing_handler()
    assert await outbox_state(shared_db) == []
    assert await stream_messages(js) == []


async def test_crash_between_commit_and_publish_is_recovered_by_the_relay(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    entered = asyncio.Event()

    async def stuck(msg: OutboundMessage) -> None:
        entered.set()
        await asyncio.Event().wait()  # NATS never answers; the process is then killed

    shared_db.publisher = stuck

    async def handler() -> None:
        async with shared_db.transaction(org_id="acme") as uow:
            uow.publish(message("test.one"))
            uow.publish(message("test.two"))

    task = asyncio.create_task(handler())
    await asyncio.wait_for(entered.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await outbox_state(shared_db) == [("test.one", False), ("test.two", False)]

    relay = OutboxRelay(shared_db, js_publisher)
    assert await relay.drain() == 0  # still leased to the writer that died
    await expire_leases(shared_db)  # as the lease's end arrives
    assert await relay.drain() == 2
    assert [m.subject for m in await stream_messages(js)] == ["test.one", "test.two"]
    assert await outbox_state(shared_db) == [("test.one", True), ("test.two", True)]
    assert await relay.drain() == 0


async def expire_leases(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.published_at.is_(None))
            .values(next_attempt_at=func.now() - timedelta(seconds=1))
        )


async def test_a_failed_send_gives_the_lease_back_to_the_relay_at_once(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    async def nats_down(msg: OutboundMessage) -> None:
        raise ConnectionError("not connected")

    shared_db.publisher = nats_down
    async with shared_db.transaction(org_id="acme") as uow:
        uow.publish(message("test.one"))
        uow.publish(message("test.two"))
    assert await outbox_state(shared_db) == [("test.one", False), ("test.two", False)]
    assert await OutboxRelay(shared_db, js_publisher).drain() == 2
    assert [m.subject for m in await stream_messages(js)] == ["test.one", "test.two"]


async def test_a_writer_whose_lease_runs_short_sends_no_more_and_leaves_the_rest(
    database_url: str, shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    sent: list[str] = []

    async def slow(msg: OutboundMessage) -> None:
        await asyncio.sleep(0.5)
        await js_publisher(msg)
        sent.append(msg.subject)

    # A lease only just longer than the send allowance: the second send would start too late.
    short = Database(
        database_url, publisher=slow, publish_lease=PUBLISH_ALLOWANCE + timedelta(seconds=0.3)
    )
    await short.connect()
    try:
        async with short.transaction(org_id="acme") as uow:
            uow.publish(message("test.one"))
            uow.publish(message("test.two"))
        await short.settle_marks()
    finally:
        await short.dispose()
    assert sent == ["test.one"]
    assert await outbox_state(shared_db) == [("test.one", True), ("test.two", False)]
    assert await OutboxRelay(shared_db, js_publisher).drain() == 1  # given back, due now
    assert [m.subject for m in await stream_messages(js)] == ["test.one", "test.two"]


async def test_many_concurrent_writers_are_all_marked_published(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    shared_db.publisher = js_publisher

    async def write(i: int) -> None:
        async with shared_db.transaction(org_id="acme") as uow:
            uow.publish(message(f"test.many{i}"))

    await asyncio.gather(*(write(i) for i in range(40)))
    await shared_db.settle_marks()
    state = await outbox_state(shared_db)
    assert len(state) == 40
    assert all(published for _, published in state)
    assert len(await stream_messages(js)) == 40


def test_every_stream_forgets_duplicates_only_well_after_a_lease() -> None:
    # A row sent but not marked is sent again by the relay once its lease ends; the stream
    # must still remember the first copy then.
    for stream in STREAMS:
        assert stream.duplicate_window >= 2 * PUBLISH_LEASE, stream.name


async def test_without_a_publisher_rows_wait_for_the_relay(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    async with shared_db.transaction() as uow:
        uow.publish(message("test.later"))
    assert await stream_messages(js) == []
    shared_db.publisher = js_publisher
    assert await OutboxRelay(shared_db).drain() == 1  # the database's publisher by default
    assert [m.subject for m in await stream_messages(js)] == ["test.later"]


async def test_two_relays_never_publish_a_row_twice(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    units, per_unit = 30, 4
    for unit in range(units):
        async with shared_db.transaction() as uow:
            for step in range(per_unit):
                uow.publish(message(f"test.u{unit}.s{step}"))

    published: Counter[str] = Counter()
    by_relay: Counter[str] = Counter()
    claimed = {name: asyncio.Event() for name in ("a", "b")}

    def recording(name: str, other: str) -> JsPublisher:
        async def publish(msg: OutboundMessage) -> None:
            # Both relays hold a claimed batch at the same time before either sends anything.
            claimed[name].set()
            await asyncio.wait_for(claimed[other].wait(), 10)
            published[msg.message_id] += 1
            by_relay[name] += 1
            await js_publisher(msg)

        return publish

    relay_a = OutboxRelay(shared_db, recording("a", "b"), batch_size=7)
    relay_b = OutboxRelay(shared_db, recording("b", "a"), batch_size=7)
    await asyncio.gather(relay_a.drain(), relay_b.drain())
    # A relay may stop early when all it claimed was held back; sweep up what remains.
    await OutboxRelay(shared_db, js_publisher).drain()

    assert len(published) == units * per_unit
    assert max(published.values()) == 1
    assert by_relay["a"] > 0
    assert by_relay["b"] > 0
    stored = await stream_messages(js)
    assert len(stored) == units * per_unit
    for unit in range(units):
        steps = [m.subject for m in stored if m.subject.startswith(f"test.u{unit}.")]
        assert steps == [f"test.u{unit}.s{step}" for step in range(per_unit)]


async def test_relay_never_overtakes_a_row_held_by_another_publisher(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    async with shared_db.transaction() as uow:
        for name in ("test.x1", "test.x2", "test.x3"):
            uow.publish(message(name))
    async with shared_db.transaction() as uow:
        uow.publish(message("test.y1"))
    async with shared_db.engine.connect() as holder:
        await holder.execute(
            text("select 1 from fluxos_outbox where subject = 'test.x2' for update")
        )
        result = await OutboxRelay(shared_db, js_publisher).sweep()
        assert result.published == 2
        assert result.held_back == 1
        assert [m.subject for m in await stream_messages(js)] == ["test.x1", "test.y1"]
        await holder.rollback()
    await OutboxRelay(shared_db, js_publisher).drain()
    subjects = [m.subject for m in await stream_messages(js)]
    assert subjects == ["test.x1", "test.y1", "test.x2", "test.x3"]


async def test_relay_survives_a_failing_publisher(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    async with shared_db.transaction() as uow:
        uow.publish(message("test.r1"))
        uow.publish(message("test.r2"))
    failures = 3
    calls = 0
    done = asyncio.Event()

    async def flaky(msg: OutboundMessage) -> None:
        nonlocal calls
        calls += 1
        if calls <= failures:
            raise ConnectionError("nats is down")
        await js_publisher(msg)
        if len(await stream_messages(js)) == 2:
            done.set()

    relay = OutboxRelay(
        shared_db, flaky, poll_interval=0.01, backoff_initial=0.01, backoff_max=0.05
    )
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        relay.stop()
        await asyncio.wait_for(task, 10)
    assert [m.subject for m in await stream_messages(js)] == ["test.r1", "test.r2"]
    async with shared_db.engine.connect() as conn:
        attempts, last_error = (
            await conn.execute(
                select(outbox.c.attempts, outbox.c.last_error).where(outbox.c.subject == "test.r1")
            )
        ).one()
    assert attempts == failures
    assert last_error is None


async def test_a_poison_message_holds_back_only_its_own_unit_of_work(
    shared_db: Database, js: JetStreamContext, js_publisher: JsPublisher
) -> None:
    async with shared_db.transaction() as uow:
        uow.publish(message("test.poison"))
        uow.publish(message("test.after_poison"))
    async with shared_db.transaction() as uow:
        uow.publish(message("test.innocent"))

    async def refuses_poison(msg: OutboundMessage) -> None:
        if msg.subject == "test.poison":
            raise ValueError("no stream for this subject")
        await js_publisher(msg)

    relay = OutboxRelay(shared_db, refuses_poison, backoff_initial=60, backoff_max=600)
    first = await relay.sweep()
    assert (first.published, first.failed) == (0, True)
    await relay.drain()
    assert [m.subject for m in await stream_messages(js)] == ["test.innocent"]
    async with shared_db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    outbox.c.attempts,
                    outbox.c.last_error,
                    outbox.c.next_attempt_at > func.now() + timedelta(seconds=30),
                ).where(outbox.c.subject == "test.poison")
            )
        ).one()
    assert row[0] == 1
    assert row[1] == "ValueError: no stream for this subject"
    assert row[2] is True
    assert await outbox_state(shared_db) == [
        ("test.poison", False),
        ("test.after_poison", False),
        ("test.innocent", True),
    ]


async def test_old_published_rows_are_pruned(
    shared_db: Database, js_publisher: JsPublisher
) -> None:
    shared_db.publisher = js_publisher
    async with shared_db.transaction() as uow:
        uow.publish(message("test.old"))
        uow.publish(message("test.recent"))
    await shared_db.settle_marks()
    shared_db.publisher = None
    async with shared_db.transaction() as uow:
        uow.publish(message("test.unpublished"))
    async with shared_db.engine.begin() as conn:
        await conn.execute(
            update(outbox)
            .where(outbox.c.subject.in_(["test.old", "test.unpublished"]))
            .values(created_at=func.now() - timedelta(days=30))
        )
        await conn.execute(
            update(outbox)
            .where(outbox.c.subject == "test.old")
            .values(published_at=func.now() - timedelta(days=8))
        )
    relay = OutboxRelay(shared_db, js_publisher, retention=timedelta(days=7))
    pruned = await relay.prune()
    assert pruned.outbox_rows == 1
    assert await outbox_state(shared_db) == [("test.recent", True), ("test.unpublished", False)]
