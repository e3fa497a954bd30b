"""Bus overhead: our typed layer against raw nats-py, on one real server, in one run.

* JetStream: publish (awaiting the stream's ack) -> the consumer receives it -> acks it, one
  message at a time. Raw: `js.publish` of bytes, a `pull_subscribe` + `fetch(1)` loop,
  `msg.ack()`. Typed: `Bus.publish` of a contract model, `PullConsumer` decoding the envelope
  into the model and running a handler, then acking.
* Request-reply: raw `nc.request` against a raw subscription vs `Bus.request` against an
  `RpcServer` (envelope, validation, typed reply).

The headline figures run the consumer (or server) in its own process, as fluxos services do.
The same comparison with both ends in one process and one event loop is reported too
(`same_process_*`): there every microsecond of both ends lies on one core's path, so it is the
harsher, less realistic number. The raw side always carries the same bytes as the typed one.
Rounds of raw and typed alternate so drift of the machine affects both alike.
"""

from __future__ import annotations

import asyncio

from bench.bus_contracts import BENCH_STREAM, RAW_STREAM
from bench.bus_same_process import SameProcess
from bench.bus_two_process import TwoProcess
from bench.harness import nats_server, report, summary
from contracts.platform.deadletter import DEAD_LETTER_STREAM
from shared.bus import Bus
from shared.bus.provisioning import ensure_streams
from shared.settings import PlatformSettings

ROUNDS = 3
PER_ROUND = 700
WARMUP = 200


async def run() -> dict[str, float | int | str]:
    series: dict[str, list[float]] = {}

    def add(name: str, samples: list[float]) -> None:
        series.setdefault(name, []).extend(samples)

    with nats_server() as server:
        admin = await Bus(PlatformSettings(nats_url=server.url), name="bench-admin").connect()
        await ensure_streams(admin.js, (BENCH_STREAM, RAW_STREAM, DEAD_LETTER_STREAM), replicas=1)
        two = TwoProcess(server.url, PER_ROUND, WARMUP)
        await two.start()
        same = SameProcess(server.url, PER_ROUND, WARMUP)
        await same.start()
        for n in range(ROUNDS):
            add("raw_js", await two.jetstream(typed=False, round_=n))
            add("typed_js", await two.jetstream(typed=True, round_=n))
            add("raw_rpc", await two.request_reply(typed=False, round_=n))
            add("typed_rpc", await two.request_reply(typed=True, round_=n))
            add("same_raw_js", await same.raw_js(n))
            add("same_typed_js", await same.typed_js(n))
            add("same_raw_rpc", await same.raw_rpc())
            add("same_typed_rpc", await same.typed_rpc())
        await same.stop()
        await two.stop()
        await admin.close()

    s = {name: summary(samples) for name, samples in series.items()}

    def ratio(typed: str, raw: str) -> float:
        return round(s[typed]["p50"] / s[raw]["p50"], 3)

    result: dict[str, float | int | str] = {"samples_per_series": len(series["raw_js"])}
    for name in ("raw_js", "typed_js", "raw_rpc", "typed_rpc"):
        result[f"{name}_p50_ms"] = s[name]["p50"]
        result[f"{name}_p99_ms"] = s[name]["p99"]
    result["overhead_ratio"] = ratio("typed_js", "raw_js")
    result["rpc_overhead_ratio"] = ratio("typed_rpc", "raw_rpc")
    for name in ("raw_js", "typed_js", "raw_rpc", "typed_rpc"):
        result[f"same_process_{name}_p50_ms"] = s[f"same_{name}"]["p50"]
    result["same_process_overhead_ratio"] = ratio("same_typed_js", "same_raw_js")
    result["same_process_rpc_overhead_ratio"] = ratio("same_typed_rpc", "same_raw_rpc")
    result["target_overhead_ratio"] = 1.3
    return result


def main() -> int:
    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        result = asyncio.run(run())
    report(result)
    return 0
