"""Bus overhead: our typed layer against raw nats-py, on one real server, in one run.

* JetStream: publish (awaiting the stream's ack) -> the consumer receives it -> acks it, one
  message at a time, so each sample is one full round trip.
  Raw: `js.publish` of bytes, a `pull_subscribe` + `fetch(1)` loop, `msg.ack()`.
  Typed: `Bus.publish` of a contract model, `PullConsumer` decoding the envelope into the model
  and running a handler, then acking.
* Request-reply: raw `nc.request` against a raw subscription vs `Bus.request` against an
  `RpcServer` (envelope, validation, typed reply).

Rounds of raw and typed alternate so drift of the machine affects both alike.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from pydantic import Field

from bench.harness import nats_server, report, summary
from contracts.ids import SubjectToken
from contracts.model import ContractModel
from contracts.platform.deadletter import DEAD_LETTER_STREAM
from contracts.streams import Consumer, Retention, Stream
from contracts.subject import command, rpc
from shared.bus import Bus, DeadLetters, Delivery, PullConsumer, Request, RpcServer
from shared.bus.provisioning import ensure_consumer, ensure_streams
from shared.settings import PlatformSettings

ROUNDS = 5
PER_ROUND = 400
WARMUP = 200


class BenchOrderV1(ContractModel):
    order_id: SubjectToken
    item: str
    quantity: int = Field(ge=1)


class BenchQuoteV1(ContractModel):
    item: str
    cents: int


BENCH_CMD = command("bench", "order", "place", BenchOrderV1, tokens=("order_id",))
BENCH_RPC = rpc("bench", "quote", "get", BenchOrderV1, BenchQuoteV1)
BENCH_STREAM = Stream(
    name="BENCH", subjects=("bench.v1.cmd.>",), description="bench", retention=Retention.WORK_QUEUE
)
RAW_STREAM = Stream(name="RAWBENCH", subjects=("rawbench.>",), description="raw floor")
BENCH_CONSUMER = Consumer(
    durable="bench-orders",
    service="bench",
    stream=BENCH_STREAM,
    subject=BENCH_CMD,
    description="bench",
    ack_wait=timedelta(seconds=30),
)
# The raw floor carries the same bytes as a typed message (envelope included), so the ratio
# measures what our layer does, not how much bigger an envelope is than a bare payload.
PAYLOAD = (
    b'{"meta":{"message_id":"0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b","type":"BenchOrderV1",'
    b'"org_id":null,"actor":{"kind":"system","id":"fluxos"},'
    b'"call_id":"0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6c","parent_call_id":null,'
    b'"root_call_id":"0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6c",'
    b'"occurred_at":"2026-11-21T11:26:15.123456Z"},'
    b'"data":{"order_id":"o-1","item":"widget","quantity":3}}'
)
REPLY = (
    b'{"meta":'
    + PAYLOAD[8 : PAYLOAD.index(b',"data"')]
    + b',"ok":true,"data":{"item":"widget","cents":300}}'
)


class RawJetStream:
    """The floor: plain nats-py, bytes in and out, one connection for all rounds."""

    def __init__(self) -> None:
        self.received = asyncio.Event()
        self.stamp = [0.0]
        self._stop = False

    async def start(self, url: str) -> None:
        self.nc = await nats.connect(url)
        self.js = self.nc.jetstream()
        self.sub = await self.js.pull_subscribe(
            "rawbench.order",
            durable="raw",
            stream=RAW_STREAM.name,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30),
        )
        self.task = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        while not self._stop:
            try:
                msgs = await self.sub.fetch(1, timeout=1)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            for msg in msgs:
                await msg.ack()
                self.stamp[0] = time.perf_counter()
                self.received.set()

    async def round(self, offset: int) -> list[float]:
        return await _ping_pong(
            lambda i: self.js.publish(
                "rawbench.order", PAYLOAD, headers={"Nats-Msg-Id": f"r{offset + i}"}
            ),
            self.received,
            self.stamp,
        )

    async def stop(self) -> None:
        self._stop = True
        await self.task
        await self.nc.close()


async def _typed_js(bus: Bus) -> list[float]:
    received = asyncio.Event()
    stamp = [0.0]

    async def handle(order: BenchOrderV1, delivery: Delivery) -> None:
        stamp[0] = time.perf_counter()
        received.set()

    consumer = PullConsumer(bus, BENCH_CONSUMER, handle, dead_letters=DeadLetters(bus, "bench"))
    await consumer.start()
    order = BenchOrderV1(order_id="o-1", item="widget", quantity=3)
    samples = await _ping_pong(lambda i: bus.publish(BENCH_CMD, order), received, stamp)
    await consumer.stop(grace=1)
    return samples


async def _ping_pong(publish, received: asyncio.Event, stamp: list[float]) -> list[float]:  # type: ignore[no-untyped-def]
    samples: list[float] = []
    for i in range(WARMUP + PER_ROUND):
        received.clear()
        start = time.perf_counter()
        await publish(i)
        await received.wait()
        if i >= WARMUP:
            samples.append((stamp[0] - start) * 1000)
    return samples


async def _raw_rpc(url: str) -> list[float]:
    server = await nats.connect(url)
    client = await nats.connect(url)

    async def answer(msg: Msg) -> None:
        await msg.respond(REPLY)

    await server.subscribe("rawbench.quote", queue="raw", cb=answer)
    await server.flush()
    samples = []
    for i in range(WARMUP + PER_ROUND):
        start = time.perf_counter()
        await client.request("rawbench.quote", PAYLOAD, timeout=5)
        if i >= WARMUP:
            samples.append((time.perf_counter() - start) * 1000)
    await server.close()
    await client.close()
    return samples


async def _typed_rpc(server_bus: Bus, client_bus: Bus) -> list[float]:
    async def quote(order: BenchOrderV1, request: Request) -> BenchQuoteV1:
        return BenchQuoteV1(item=order.item, cents=100 * order.quantity)

    server = RpcServer(server_bus, BENCH_RPC, quote, queue="bench")
    await server.start()
    await server_bus.nc.flush()
    order = BenchOrderV1(order_id="o-1", item="widget", quantity=3)
    samples = []
    for i in range(WARMUP + PER_ROUND):
        start = time.perf_counter()
        await client_bus.request(BENCH_RPC, order)
        if i >= WARMUP:
            samples.append((time.perf_counter() - start) * 1000)
    await server.stop(grace=1)
    return samples


async def run() -> dict[str, float | int | str]:
    with nats_server() as server:
        settings = PlatformSettings(nats_url=server.url)
        producer = await Bus(settings, name="bench-producer").connect()
        consumer_bus = await Bus(settings, name="bench-consumer").connect()
        await ensure_streams(
            producer.js, (BENCH_STREAM, RAW_STREAM, DEAD_LETTER_STREAM), replicas=1
        )
        await ensure_consumer(producer.js, BENCH_CONSUMER)
        raw_js: list[float] = []
        typed_js: list[float] = []
        raw_rpc: list[float] = []
        typed_rpc: list[float] = []
        raw = RawJetStream()
        await raw.start(server.url)
        for n in range(ROUNDS):
            raw_js += await raw.round(n * (WARMUP + PER_ROUND))
            typed_js += await _typed_js(consumer_bus)
            raw_rpc += await _raw_rpc(server.url)
            typed_rpc += await _typed_rpc(consumer_bus, producer)
        await raw.stop()
        await producer.close()
        await consumer_bus.close()
    rjs, tjs, rrpc, trpc = summary(raw_js), summary(typed_js), summary(raw_rpc), summary(typed_rpc)
    return {
        "samples_per_series": len(raw_js),
        "raw_js_p50_ms": rjs["p50"],
        "raw_js_p99_ms": rjs["p99"],
        "typed_js_p50_ms": tjs["p50"],
        "typed_js_p99_ms": tjs["p99"],
        "raw_rpc_p50_ms": rrpc["p50"],
        "raw_rpc_p99_ms": rrpc["p99"],
        "typed_rpc_p50_ms": trpc["p50"],
        "typed_rpc_p99_ms": trpc["p99"],
        "overhead_ratio": round(tjs["p50"] / rjs["p50"], 3),
        "rpc_overhead_ratio": round(trpc["p50"] / rrpc["p50"], 3),
        "target_overhead_ratio": 1.3,
    }


def main() -> int:
    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:
        result = asyncio.run(run())
    report(result)
    return 0
