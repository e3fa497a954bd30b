"""Provisioning streams and consumers is idempotent, concurrent-safe and follows declarations."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from contracts.streams import Storage
from shared.bus import Bus
from shared.bus.provisioning import ensure_consumer, ensure_stream
from tests.shared.bus.conftest import SHOP_EVENTS, order_consumer


async def test_many_provisioners_at_once_make_one_stream(bus: Bus) -> None:
    await bus.js.delete_stream(SHOP_EVENTS.name)
    await asyncio.gather(*(ensure_stream(bus.js, SHOP_EVENTS, replicas=1) for _ in range(8)))
    info = await bus.js.stream_info(SHOP_EVENTS.name)
    assert info.config.subjects == list(SHOP_EVENTS.subjects)
    assert info.config.duplicate_window == 120


async def test_many_provisioners_at_once_make_one_memory_stream(bus: Bus) -> None:
    # The server reserves a memory stream's bytes before it compares names: a second create
    # may fail for want of memory rather than because the stream exists.
    memory = dataclasses.replace(
        SHOP_EVENTS,
        name="SHOP_LIVE",
        subjects=("live.>",),
        storage=Storage.MEMORY,
        max_bytes=256 * 1024 * 1024,
    )
    await asyncio.gather(*(ensure_stream(bus.js, memory, replicas=1) for _ in range(8)))
    info = await bus.js.stream_info(memory.name)
    assert info.config.subjects == ["live.>"]
    await bus.js.delete_stream(memory.name)


async def test_a_changed_declaration_updates_the_stream(bus: Bus) -> None:
    changed = dataclasses.replace(SHOP_EVENTS, max_age=timedelta(days=1), description="new")
    await ensure_stream(bus.js, changed, replicas=1)
    info = await bus.js.stream_info(SHOP_EVENTS.name)
    assert info.config.max_age == 86400
    assert info.config.description == "new"
    await ensure_stream(bus.js, changed, replicas=1)  # and again: nothing to do


async def test_consumers_get_every_delivery_setting_explicitly(bus: Bus) -> None:
    spec = order_consumer(ack_wait=timedelta(seconds=7), max_deliver=4, max_ack_pending=50)
    await ensure_consumer(bus.js, spec)
    await ensure_consumer(bus.js, spec)
    info = await bus.js.consumer_info(spec.stream.name, spec.durable)
    assert info.config.ack_policy is not None
    assert info.config.ack_policy == "explicit"
    assert info.config.ack_wait == 7
    assert info.config.max_deliver == 4
    assert info.config.max_ack_pending == 50
    assert info.config.filter_subject == "shop.v1.cmd.widget.*.order"
