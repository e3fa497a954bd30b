"""Both ends in this process and event loop: the harshest way to count our layer's CPU."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import nats
from nats.aio.msg import Msg

from bench.bus_contracts import (
    BENCH_CMD,
    BENCH_RPC,
    ORDER,
    PAYLOAD,
    RAW_RPC_SUBJECT,
    RAW_STREAM,
    RAW_SUBJECT,
    REPLY,
    BenchOrderV1,
    BenchQuoteV1,
    raw_consumer,
    raw_durable,
    typed_consumer,
)
from shared.bus import Bus, DeadLetters, Delivery, PullConsumer, Request, RpcServer
from shared.bus.provisioning import ensure_consumer
from shared.settings import PlatformSettings

# Durable names of this series, apart from the two-process series' ones.
_OFFSET = 1000


class SameProcess:
    def __init__(self, url: str, count: int, warmup: int) -> None:
        self.url = url
        self.count = count
        self.warmup = warmup

    async def start(self) -> None:
        settings = PlatformSettings(nats_url=self.url)
        self.producer = await Bus(settings, name="same-producer").connect()
        self.consumer = await Bus(settings, name="same-consumer").connect()
        self.raw_pub = await nats.connect(self.url)
        self.raw_sub = await nats.connect(self.url)

    async def stop(self) -> None:
        for bus in (self.producer, self.consumer):
            await bus.close()
        for nc in (self.raw_pub, self.raw_sub):
            await nc.close()

    async def _ping_pong(
        self, publish: Callable[[int], Awaitable[object]], received: asyncio.Event, at: list[float]
    ) -> list[float]:
        samples: list[float] = []
        for i in range(self.count):
            received.clear()
            started = time.perf_counter()
            await publish(i)
            await received.wait()
            samples.append((at[0] - started) * 1000)
        return samples[self.warmup :]

    async def raw_js(self, round_: int) -> list[float]:
        durable = raw_durable(_OFFSET + round_)
        js = self.raw_sub.jetstream()
        await js.add_consumer(RAW_STREAM.name, raw_consumer(durable))
        sub = await js.pull_subscribe_bind(durable, stream=RAW_STREAM.name)
        received, at = asyncio.Event(), [0.0]
        remaining = [self.count]

        async def consume() -> None:
            while remaining[0]:
                try:
                    msgs = await sub.fetch(1, timeout=1)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                for msg in msgs:
                    await msg.ack()
                    at[0] = time.perf_counter()
                    remaining[0] -= 1
                    received.set()

        task = asyncio.create_task(consume())
        pub = self.raw_pub.jetstream()
        samples = await self._ping_pong(
            lambda i: pub.publish(
                RAW_SUBJECT, PAYLOAD, headers={"Nats-Msg-Id": f"same-{round_}-{i}"}
            ),
            received,
            at,
        )
        await task
        await js.delete_consumer(RAW_STREAM.name, durable)
        return samples

    async def typed_js(self, round_: int) -> list[float]:
        spec = typed_consumer(_OFFSET + round_)
        await ensure_consumer(self.consumer.js, spec)
        received, at = asyncio.Event(), [0.0]

        async def handle(order: BenchOrderV1, delivery: Delivery) -> None:
            at[0] = time.perf_counter()
            received.set()

        consumer = PullConsumer(
            self.consumer, spec, handle, dead_letters=DeadLetters(self.consumer, "bench")
        )
        await consumer.start()
        samples = await self._ping_pong(
            lambda i: self.producer.publish(BENCH_CMD, ORDER), received, at
        )
        await consumer.stop(grace=1)
        await self.consumer.js.delete_consumer(spec.stream.name, spec.durable)
        return samples

    async def raw_rpc(self) -> list[float]:
        async def answer(msg: Msg) -> None:
            await msg.respond(REPLY)

        sub = await self.raw_sub.subscribe(RAW_RPC_SUBJECT, queue="raw", cb=answer)
        await self.raw_sub.flush()
        samples = []
        for _ in range(self.count):
            started = time.perf_counter()
            await self.raw_pub.request(RAW_RPC_SUBJECT, PAYLOAD, timeout=5)
            samples.append((time.perf_counter() - started) * 1000)
        await sub.unsubscribe()
        return samples[self.warmup :]

    async def typed_rpc(self) -> list[float]:
        async def quote(order: BenchOrderV1, request: Request) -> BenchQuoteV1:
            return BenchQuoteV1(item=order.item, cents=100 * order.quantity)

        server = RpcServer(self.consumer, BENCH_RPC, quote, queue="bench")
        await server.start()
        await self.consumer.nc.flush()
        samples = []
        for _ in range(self.count):
            started = time.perf_counter()
            await self.producer.request(BENCH_RPC, ORDER)
            samples.append((time.perf_counter() - started) * 1000)
        await server.stop(grace=1)
        return samples[self.warmup :]
