"""Failover on a three-node cluster: streams at R3 survive losing their leader."""

from __future__ import annotations

import asyncio

import pytest

from shared.bus import Bus, BusTimeout, BusUnavailable, DeadLetters, Delivery, PullConsumer
from shared.bus.codec import OutboundMessage
from shared.bus.provisioning import ensure_consumer, ensure_streams
from shared.runtime.nats_server import NatsCluster
from shared.settings import PlatformSettings
from tests.shared.bus.conftest import ORDER, STREAMS, OrderWidgetV1, eventually, order_consumer

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


async def _publish_until_stored(bus: Bus, msg: OutboundMessage) -> None:
    """What a producer with an outbox does: retry the same message id until the stream has it."""
    for _ in range(200):
        try:
            await bus.publish_message(msg, timeout=1)
            return
        except (BusTimeout, BusUnavailable):
            await asyncio.sleep(0.1)
    raise AssertionError(f"{msg.message_id} was never stored")


async def test_killing_the_stream_leader_loses_nothing(nats_cluster: NatsCluster) -> None:
    settings = PlatformSettings(nats_url=nats_cluster.url, stream_replicas=3)
    bus = await Bus(settings, name="cluster-test").connect()
    consumer: PullConsumer[OrderWidgetV1] | None = None
    try:
        await ensure_streams(bus.js, STREAMS, replicas=3)
        spec = order_consumer()
        await ensure_consumer(bus.js, spec)
        seen: dict[str, int] = {}

        async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
            seen[delivery.meta.message_id] = seen.get(delivery.meta.message_id, 0) + 1

        consumer = PullConsumer(bus, spec, handle, dead_letters=DeadLetters(bus, "shop"))
        await consumer.start()

        messages = [
            bus.message(ORDER, OrderWidgetV1(order_id=f"o-{i}", item="bolt", quantity=1))
            for i in range(60)
        ]
        for msg in messages[:20]:
            await _publish_until_stored(bus, msg)

        info = await bus.js.stream_info(spec.stream.name)
        assert info.cluster is not None
        assert len(info.cluster.replicas or []) == 2
        leader = next(n for n in nats_cluster.nodes if n.name == info.cluster.leader)
        leader.kill()

        for msg in messages[20:]:
            await _publish_until_stored(bus, msg)

        async def all_handled() -> bool:
            return set(seen) == {m.message_id for m in messages}

        await eventually(all_handled, timeout=60)
        new_leader = (await bus.js.stream_info(spec.stream.name)).cluster
        assert new_leader is not None
        assert new_leader.leader != leader.name
        # At-least-once: a message may come twice around the failover, never zero times;
        # consumers dedupe by message id (shared.db.dedupe) for exactly-once effects.
        assert all(count >= 1 for count in seen.values())
    finally:
        if consumer is not None:
            await consumer.stop(grace=1)
        await bus.close()
