"""Publisher and consumer (or client and server) in separate processes, as services run.

The consumer side runs in a child process; the publisher stays here. A JetStream sample is the
consumer's receive time minus the publisher's send time, both read from the system-wide
monotonic clock (`time.perf_counter` on Linux); the consumer then signals `next` over core NATS,
outside the measured interval. A request-reply sample is the client's own round trip.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from multiprocessing.queues import Queue
from typing import Any

import nats
from nats.aio.msg import Msg

from bench.bus_contracts import (
    BENCH_CMD,
    BENCH_RPC,
    NEXT,
    ORDER,
    PAYLOAD,
    RAW_RPC_SUBJECT,
    RAW_STREAM,
    RAW_SUBJECT,
    READY,
    REPLY,
    STOP,
    BenchOrderV1,
    BenchQuoteV1,
    raw_consumer,
    raw_durable,
    typed_consumer,
)
from shared.bus import Bus, DeadLetters, Delivery, PullConsumer, Request, RpcServer
from shared.bus.provisioning import ensure_consumer
from shared.settings import PlatformSettings

_SPAWN = mp.get_context("spawn")


# ------------------------------------------------------------------------------ child side
def child(url: str, role: str, round_: int, count: int, out: Queue[list[float]]) -> None:
    import uvloop

    uvloop.run(_child(url, role, round_, count, out))


async def _child(url: str, role: str, round_: int, count: int, out: Queue[list[float]]) -> None:
    nc = await nats.connect(url)
    stamps: list[float] = []
    stop = await nc.subscribe(STOP)
    bus: Bus | None = None
    if role == "raw-js":
        sub = await nc.jetstream().pull_subscribe_bind(raw_durable(round_), stream=RAW_STREAM.name)
        await nc.publish(READY, b"")
        while len(stamps) < count:
            try:
                msgs = await sub.fetch(1, timeout=1)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            for msg in msgs:
                await msg.ack()
                stamps.append(time.perf_counter())
                await nc.publish(NEXT, b"")
    elif role == "typed-js":
        bus = await Bus(PlatformSettings(nats_url=url), name="bench-consumer").connect()
        done = asyncio.Event()

        async def handle(order: BenchOrderV1, delivery: Delivery) -> None:
            stamps.append(time.perf_counter())
            await nc.publish(NEXT, b"")
            if len(stamps) >= count:
                done.set()

        spec = typed_consumer(round_)
        consumer = PullConsumer(bus, spec, handle, dead_letters=DeadLetters(bus, "bench"))
        await consumer.start()
        await nc.publish(READY, b"")
        await done.wait()
        await consumer.stop(grace=1)
    elif role == "raw-rpc":

        async def answer(msg: Msg) -> None:
            await msg.respond(REPLY)

        await nc.subscribe(RAW_RPC_SUBJECT, queue="raw", cb=answer)
        await nc.flush()
        await nc.publish(READY, b"")
        await stop.next_msg(timeout=None)
    elif role == "typed-rpc":
        bus = await Bus(PlatformSettings(nats_url=url), name="bench-server").connect()

        async def quote(order: BenchOrderV1, request: Request) -> BenchQuoteV1:
            return BenchQuoteV1(item=order.item, cents=100 * order.quantity)

        server = RpcServer(bus, BENCH_RPC, quote, queue="bench")
        await server.start()
        await bus.nc.flush()
        await nc.publish(READY, b"")
        await stop.next_msg(timeout=None)
        await server.stop(grace=1)
    out.put(stamps)
    if bus is not None:
        await bus.close()
    await nc.close()


# ------------------------------------------------------------------------------ parent side
class TwoProcess:
    def __init__(self, url: str, count: int, warmup: int) -> None:
        self.url = url
        self.count = count
        self.warmup = warmup

    async def start(self) -> None:
        self.nc = await nats.connect(self.url)
        self.js = self.nc.jetstream()
        self.bus = await Bus(PlatformSettings(nats_url=self.url), name="bench-producer").connect()
        self.next = await self.nc.subscribe(NEXT)
        self.ready = await self.nc.subscribe(READY)
        await self.nc.flush()

    async def stop(self) -> None:
        await self.bus.close()
        await self.nc.close()

    async def _spawn(self, role: str, round_: int) -> tuple[Any, Queue[list[float]]]:
        out: Queue[list[float]] = _SPAWN.Queue()
        proc = _SPAWN.Process(target=child, args=(self.url, role, round_, self.count, out))
        proc.start()
        await self.ready.next_msg(timeout=60)
        return proc, out

    async def jetstream(self, typed: bool, round_: int) -> list[float]:
        if typed:
            spec = typed_consumer(round_)
            await ensure_consumer(self.js, spec)
            stream, durable = spec.stream.name, spec.durable
        else:
            stream, durable = RAW_STREAM.name, raw_durable(round_)
            await self.js.add_consumer(stream, raw_consumer(durable))
        proc, out = await self._spawn("typed-js" if typed else "raw-js", round_)
        sent: list[float] = []
        for i in range(self.count):
            sent.append(time.perf_counter())
            if typed:
                await self.bus.publish(BENCH_CMD, ORDER)
            else:
                headers = {"Nats-Msg-Id": f"raw-{round_}-{i}"}
                await self.js.publish(RAW_SUBJECT, PAYLOAD, headers=headers)
            await self.next.next_msg(timeout=30)
        received = await asyncio.to_thread(out.get, True, 60)
        await asyncio.to_thread(proc.join, 30)
        await self.js.delete_consumer(stream, durable)
        return [(r - s) * 1000 for s, r in zip(sent, received, strict=True)][self.warmup :]

    async def request_reply(self, typed: bool, round_: int) -> list[float]:
        proc, out = await self._spawn("typed-rpc" if typed else "raw-rpc", round_)
        samples: list[float] = []
        for _ in range(self.count):
            started = time.perf_counter()
            if typed:
                await self.bus.request(BENCH_RPC, ORDER)
            else:
                await self.nc.request(RAW_RPC_SUBJECT, PAYLOAD, timeout=5)
            samples.append((time.perf_counter() - started) * 1000)
        await self.nc.publish(STOP, b"")
        await asyncio.to_thread(out.get, True, 60)
        await asyncio.to_thread(proc.join, 30)
        return samples[self.warmup :]
