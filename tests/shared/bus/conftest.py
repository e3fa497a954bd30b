"""A small test-only contract (a widget shop) and a bus connected to the session server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from pydantic import Field

from contracts.ids import SubjectToken
from contracts.model import ContractModel
from contracts.platform.deadletter import ADVISORY_STREAM, DEAD_LETTER_STREAM
from contracts.streams import Consumer, Retention, Stream
from contracts.subject import command, event, rpc
from shared.bus import Bus, DeadLetters, PullConsumer
from shared.bus.consumer import Handler
from shared.bus.provisioning import ensure_consumer, ensure_streams
from shared.settings import PlatformSettings


class OrderWidgetV1(ContractModel):
    order_id: SubjectToken
    item: str = Field(min_length=1)
    quantity: int = Field(ge=1)


class WidgetShippedV1(ContractModel):
    order_id: SubjectToken
    item: str


class PriceQueryV1(ContractModel):
    item: str


class PriceV1(ContractModel):
    item: str
    cents: int


ORDER = command("shop", "widget", "order", OrderWidgetV1, tokens=("order_id",))
SHIPPED = event("shop", "widget", "shipped", WidgetShippedV1, tokens=("org_id", "order_id"))
PRICE = rpc("shop", "price", "get", PriceQueryV1, PriceV1)

SHOP_COMMANDS = Stream(
    name="SHOP_COMMANDS",
    subjects=("shop.v1.cmd.>",),
    description="test commands",
    retention=Retention.WORK_QUEUE,
)
SHOP_EVENTS = Stream(name="SHOP_EVENTS", subjects=("shop.v1.evt.>",), description="test events")
STREAMS = (SHOP_COMMANDS, SHOP_EVENTS, DEAD_LETTER_STREAM, ADVISORY_STREAM)


def order_consumer(**overrides: Any) -> Consumer[OrderWidgetV1]:
    values: dict[str, Any] = {
        "durable": "shop-orders",
        "service": "shop",
        "stream": SHOP_COMMANDS,
        "subject": ORDER,
        "description": "test",
        "ack_wait": timedelta(seconds=5),
        "max_deliver": 3,
        "backoff": (timedelta(milliseconds=50), timedelta(milliseconds=100)),
        "concurrency": 8,
    }
    values.update(overrides)
    return Consumer(**values)


@pytest.fixture
async def bus(platform_settings: PlatformSettings) -> AsyncIterator[Bus]:
    client = Bus(platform_settings, name="shop-test")
    await client.connect()
    await ensure_streams(client.js, STREAMS, replicas=1)
    yield client
    await client.close()


RunConsumer = Callable[[Consumer[Any], Handler[Any]], Awaitable[PullConsumer[Any]]]


@pytest.fixture
async def run_consumer(bus: Bus) -> AsyncIterator[RunConsumer]:
    started: list[PullConsumer[Any]] = []

    async def run(spec: Consumer[Any], handler: Handler[Any]) -> PullConsumer[Any]:
        await ensure_consumer(bus.js, spec)
        consumer = PullConsumer(bus, spec, handler, dead_letters=DeadLetters(bus, "shop"))
        await consumer.start()
        started.append(consumer)
        return consumer

    yield run
    for consumer in started:
        await consumer.stop(grace=1)


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 10.0) -> None:
    """Wait for a condition, polling quickly; fail with a clear message on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
