"""The pull consumer on a real nats-server: delivery, dedupe, retries, dead letters."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from contracts.envelope import Actor, ActorKind
from contracts.platform.errors import BusErrorCode
from shared.bus import Bus, BusUnavailable, Delivery
from shared.bus.deadletter import DeadLetterEntry, list_dead_letters, replay_dead_letter
from shared.context import current_call
from shared.errors import CodedPermanentError, CodedTransientError
from shared.runtime.nats_server import NatsServer
from shared.settings import PlatformSettings
from tests.shared.bus.conftest import (
    ORDER,
    SHIPPED,
    OrderWidgetV1,
    RunConsumer,
    WidgetShippedV1,
    eventually,
    order_consumer,
)

USER = Actor(kind=ActorKind.USER, id="u-1")


async def test_a_command_is_delivered_typed_and_acked(bus: Bus, run_consumer: RunConsumer) -> None:
    seen: list[tuple[OrderWidgetV1, Delivery]] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        seen.append((order, delivery))

    spec = order_consumer()
    await run_consumer(spec, handle)
    published = await bus.publish(
        ORDER, OrderWidgetV1(order_id="o-1", item="bolt", quantity=3), org_id="acme", actor=USER
    )
    assert published.stream == "SHOP_COMMANDS"

    async def delivered() -> bool:
        return len(seen) == 1

    await eventually(delivered)
    order, delivery = seen[0]
    assert order == OrderWidgetV1(order_id="o-1", item="bolt", quantity=3)
    assert delivery.subject == "shop.v1.cmd.widget.o-1.order"
    assert delivery.meta.org_id == "acme"
    assert delivery.meta.actor == USER
    assert delivery.attempt == 1

    async def acked() -> bool:
        info = await bus.js.consumer_info(spec.stream.name, spec.durable)
        return bool(info.num_ack_pending == 0 and info.num_pending == 0)

    await eventually(acked)
    # Work-queue retention: an acked command is gone from the stream.
    assert (await bus.js.stream_info("SHOP_COMMANDS")).state.messages == 0


async def test_same_message_id_is_delivered_once(bus: Bus, run_consumer: RunConsumer) -> None:
    calls: list[str] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        calls.append(delivery.meta.message_id)

    await run_consumer(order_consumer(), handle)
    order = OrderWidgetV1(order_id="o-2", item="nut", quantity=1)
    first = await bus.publish(ORDER, order, message_id="m-dup")
    second = await bus.publish(ORDER, order, message_id="m-dup")
    assert not first.duplicate
    assert second.duplicate
    await eventually(lambda: _truthy(len(calls) == 1))
    await asyncio.sleep(0.2)  # give a wrongly delivered duplicate the chance to show up
    assert calls == ["m-dup"]


async def test_transient_failures_are_retried_with_backoff(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    attempts: list[tuple[int, float]] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        attempts.append((delivery.attempt, asyncio.get_running_loop().time()))
        if delivery.attempt < 3:
            raise CodedTransientError("shop.warehouse_busy", "try later")

    spec = order_consumer(
        max_deliver=3, backoff=(timedelta(milliseconds=200), timedelta(milliseconds=400))
    )
    await run_consumer(spec, handle)
    await bus.publish(ORDER, OrderWidgetV1(order_id="o-3", item="gear", quantity=2))
    await eventually(lambda: _truthy(len(attempts) == 3))
    assert [a for a, _ in attempts] == [1, 2, 3]
    assert attempts[1][1] - attempts[0][1] >= 0.19
    assert attempts[2][1] - attempts[1][1] >= 0.39
    assert await list_dead_letters(bus) == []


async def test_a_permanent_error_is_dead_lettered_at_once(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    attempts: list[int] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        attempts.append(delivery.attempt)
        raise CodedPermanentError("shop.out_of_stock", f"no {order.item} left")

    await run_consumer(order_consumer(), handle)
    await bus.publish(ORDER, OrderWidgetV1(order_id="o-4", item="cog", quantity=1))
    letters = await _wait_for_letters(bus, 1)
    assert attempts == [1]
    letter = letters[0].letter
    assert letter.code == "shop.out_of_stock"
    assert letter.reason == "no cog left"
    assert letter.consumer == "shop-orders"
    assert letter.subject == "shop.v1.cmd.widget.o-4.order"
    assert letter.deliveries == 1
    assert json.loads(letter.body)["data"]["item"] == "cog"


async def test_exhausted_retries_end_in_the_dead_letter_stream(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        raise RuntimeError("a bug")

    await run_consumer(order_consumer(max_deliver=2), handle)
    await bus.publish(ORDER, OrderWidgetV1(order_id="o-5", item="cam", quantity=1))
    letters = await _wait_for_letters(bus, 1)
    assert letters[0].letter.code == BusErrorCode.INTERNAL
    assert letters[0].letter.deliveries == 2
    # The reply never leaks the exception text; the log has it.
    assert "a bug" not in letters[0].letter.reason


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json at all", BusErrorCode.MALFORMED),
        (b"[1, 2, 3]", BusErrorCode.MALFORMED),
        (b'{"meta": {}, "data": {}}', BusErrorCode.INVALID_PAYLOAD),
        (None, BusErrorCode.INVALID_PAYLOAD),  # valid envelope, quantity 0
        ("version", BusErrorCode.UNKNOWN_VERSION),
        ("oversize", BusErrorCode.OVERSIZE),
        ("subject", BusErrorCode.WRONG_SUBJECT),
        ("extra", BusErrorCode.INVALID_PAYLOAD),  # strict readers in tests
    ],
)
async def test_malformed_messages_are_dead_lettered_and_the_consumer_goes_on(
    bus: Bus, run_consumer: RunConsumer, body: bytes | str | None, code: BusErrorCode
) -> None:
    handled: list[OrderWidgetV1] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        handled.append(order)

    await run_consumer(order_consumer(), handle)
    good = bus.message(ORDER, OrderWidgetV1(order_id="o-6", item="pin", quantity=1))
    subject = good.subject
    if body is None:
        raw = good.body.replace(b'"quantity":1', b'"quantity":0')
    elif body == "version":
        raw = good.body.replace(b"OrderWidgetV1", b"OrderWidgetV2")
    elif body == "oversize":
        raw = good.body.replace(b'"pin"', b'"' + b"p" * bus.settings.max_message_bytes + b'"')
    elif body == "subject":
        subject = "shop.v1.cmd.widget.someone-else.order"
        raw = good.body
    elif body == "extra":
        raw = good.body[:-1] + b',"sneaky":true}'
    else:
        assert isinstance(body, bytes)
        raw = body
    await bus.js.publish(subject, raw)
    letters = await _wait_for_letters(bus, 1)
    assert letters[0].letter.code == code
    assert letters[0].letter.body == raw
    assert letters[0].letter.deliveries == 1

    await bus.publish_message(good)
    await eventually(lambda: _truthy(len(handled) == 1))
    assert handled[0].item == "pin"


async def test_a_handler_that_outlives_ack_wait_keeps_its_message_by_heartbeat(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    attempts: list[int] = []
    done = asyncio.Event()

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        attempts.append(delivery.attempt)
        await asyncio.sleep(1.6)  # more than three AckWaits
        done.set()

    await run_consumer(order_consumer(ack_wait=timedelta(milliseconds=500)), handle)
    await bus.publish(ORDER, OrderWidgetV1(order_id="o-7", item="axle", quantity=1))
    await asyncio.wait_for(done.wait(), 10)
    await asyncio.sleep(0.6)
    assert attempts == [1]


async def test_a_handler_that_hangs_every_time_is_dead_lettered_by_advisory(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    from shared.bus.deadletter import AdvisoryWatcher, DeadLetters

    attempts: list[int] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        attempts.append(delivery.attempt)
        await asyncio.Event().wait()  # hangs, like a process stuck in a bad call

    spec = order_consumer(ack_wait=timedelta(milliseconds=400), max_deliver=2, heartbeat=False)
    await run_consumer(spec, handle)
    watcher = AdvisoryWatcher(bus, "shop", [spec], DeadLetters(bus, "shop"))
    await watcher.start()
    try:
        await bus.publish(ORDER, OrderWidgetV1(order_id="o-8", item="spring", quantity=1))
        letters = await _wait_for_letters(bus, 1)
    finally:
        await watcher.stop()
    assert attempts == [1, 2]
    assert letters[0].letter.code == BusErrorCode.MAX_DELIVERIES
    assert letters[0].letter.subject == "shop.v1.cmd.widget.o-8.order"
    # The work item is removed from its queue once its copy is safe.
    await eventually(
        lambda: _messages(bus, "SHOP_COMMANDS", 0),
    )


async def test_a_dead_letter_can_be_replayed_to_its_subject(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    shelves = {"bolt": 0}
    shipped: list[str] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        if shelves.get(order.item, 0) < order.quantity:
            raise CodedPermanentError("shop.out_of_stock", "restock first")
        shipped.append(delivery.meta.message_id)

    await run_consumer(order_consumer(), handle)
    await bus.publish(
        ORDER, OrderWidgetV1(order_id="o-9", item="bolt", quantity=2), message_id="m-replay"
    )
    letters = await _wait_for_letters(bus, 1)
    shelves["bolt"] = 5
    replayed = await replay_dead_letter(bus, letters[0].seq, replayed_by="ops")
    assert replayed.message_id == "m-replay"
    await eventually(lambda: _truthy(shipped == ["m-replay"]))


async def test_messages_published_by_a_handler_are_children_of_its_call(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    from tests.shared.bus.conftest import SHOP_EVENTS

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        call = current_call()
        assert call is not None
        assert call.call_id == delivery.meta.call_id
        await bus.publish(SHIPPED, WidgetShippedV1(order_id=order.order_id, item=order.item))

    await run_consumer(order_consumer(), handle)
    sub = await bus.js.subscribe(SHIPPED.wildcard, stream=SHOP_EVENTS.name, ordered_consumer=True)
    parent = await bus.publish(
        ORDER, OrderWidgetV1(order_id="o-10", item="nut", quantity=1), org_id="acme", actor=USER
    )
    assert parent.seq > 0
    msg = await sub.next_msg(timeout=5)
    envelope = json.loads(msg.data)
    assert msg.subject == "shop.v1.evt.widget.acme.o-10.shipped"
    assert envelope["meta"]["org_id"] == "acme"
    assert envelope["meta"]["actor"] == {"kind": "user", "id": "u-1"}
    order_msg_meta = envelope["meta"]
    assert order_msg_meta["parent_call_id"] is not None
    assert order_msg_meta["root_call_id"] == order_msg_meta["parent_call_id"]
    await sub.unsubscribe()


async def test_stopping_hands_unfinished_work_to_another_replica(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    started = asyncio.Event()
    finished_by: list[str] = []

    async def slow(order: OrderWidgetV1, delivery: Delivery) -> None:
        started.set()
        await asyncio.sleep(30)

    async def quick(order: OrderWidgetV1, delivery: Delivery) -> None:
        finished_by.append(f"replica-b attempt {delivery.attempt}")

    # A long AckWait: only an explicit nak on stop can make redelivery this fast.
    spec = order_consumer(ack_wait=timedelta(seconds=60))
    replica_a = await run_consumer(spec, slow)
    await bus.publish(ORDER, OrderWidgetV1(order_id="o-11", item="cam", quantity=1))
    await asyncio.wait_for(started.wait(), 5)
    await replica_a.stop(grace=0.1)
    await run_consumer(spec, quick)
    await eventually(lambda: _truthy(finished_by == ["replica-b attempt 2"]), timeout=5)


async def _wait_for_letters(bus: Bus, count: int) -> list[DeadLetterEntry]:
    found: list[DeadLetterEntry] = []

    async def enough() -> bool:
        nonlocal found
        found = await list_dead_letters(bus)
        return len(found) >= count

    await eventually(enough)
    return found


async def _truthy(value: bool) -> bool:
    return value


async def _messages(bus: Bus, stream: str, count: int) -> bool:
    return (await bus.js.stream_info(stream)).state.messages == count


async def test_publishing_while_nats_is_down_fails_fast(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats")
    server.start()
    bus = await Bus(PlatformSettings(nats_url=server.url), name="fragile").connect()
    try:
        server.kill()
        await eventually(lambda: _truthy(not bus.connected))
        started = asyncio.get_running_loop().time()
        with pytest.raises(BusUnavailable):
            await bus.publish(ORDER, OrderWidgetV1(order_id="o-12", item="nut", quantity=1))
        assert asyncio.get_running_loop().time() - started < 0.5
    finally:
        await bus.close()
        server.stop()
