"""Orchestration overhead: tasks of no-op steps through the real tentacle service.

Its own nats-server and PostgreSQL (fsync on: every commit is durable, as in production), then
`python -m tentacle` as separate process(es), driven over the bus like any caller:

* raw floor: a bare JetStream round trip (publish -> a consumer in another process receives
  it), measured in this run (`bench.bus_two_process`), `raw_js_roundtrip_p50_ms`;
* isolated steps: tasks of 10 chained no-op steps, one task at a time; a step's overhead is the
  time from one step's cycle to the next (record the result, decide, write, commit, publish the
  next work item, JetStream delivery, worker pickup), read from the lifecycle events' own
  timestamps: `step_overhead_p50_ms` / `_p99_ms`, and `ratio_p50` to the raw floor;
* throughput: 200 such tasks created at once, `steps_per_s` from the first create to the last
  completion (and the per-step latency under that load, `loaded_step_*`). Diagnostics of that
  phase: when the last create was answered (`creates_done_s`), how long after its creation a
  task's first step was done (its result recorded and the second step dispatched:
  `first_step_done_p50_ms` / `_p99_ms`), how long the last tenth of the tasks took to finish
  (`tail_last_10pct_s`), and how many cores this run's processes kept busy on average.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import secrets
import sys
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

import psutil
from nats.aio.msg import Msg

from bench.bus_contracts import BENCH_STREAM, RAW_STREAM
from bench.bus_two_process import TwoProcess
from bench.harness import nats_server, percentile, postgres_server, report
from contracts.envelope import Actor, ActorKind
from contracts.ids import new_id
from contracts.platform.deadletter import DEAD_LETTER_STREAM
from contracts.platform.health import HealthCheckV1, HealthStatus
from contracts.tentacle import HEALTH
from contracts.tentacle.models import CreateTaskV1, TaskConstraintsV1, TaskV1
from contracts.tentacle.plans import PlanV1
from contracts.tentacle.subjects import TASK_CREATE_RPC, TASK_PROGRESSED
from shared.bus import Bus
from shared.bus.provisioning import ensure_streams
from shared.settings import PlatformSettings

STEPS = 10
CONCURRENT = int(os.environ.get("BENCH_TASKS", "200"))
SERIAL = int(os.environ.get("BENCH_SERIAL", "30"))
# One replica by default: on two cores the database and NATS need the other one, and a single
# replica always finds the task it dispatched in its own cache (BENCH_REPLICAS to compare).
REPLICAS = int(os.environ.get("BENCH_REPLICAS", "1"))
WARMUP = 20
ORG = "bench"
USER = Actor(kind=ActorKind.USER, id="bench")


def chain() -> PlanV1:
    return PlanV1.model_validate(
        {
            "steps": [
                {
                    "id": f"s{i}",
                    "agent": "noop",
                    "inputs": {"i": i},
                    "depends_on": [f"s{i - 1}"] if i else [],
                }
                for i in range(STEPS)
            ]
        }
    )


def _cpu_seconds(pid: int | None, *, tree: bool = True) -> float:
    """CPU time of a process and (`tree`) everything below it (PostgreSQL forks a backend
    per connection, and may run under `unshare`)."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        total = 0.0
        for proc in (root, *(root.children(recursive=True) if tree else ())):
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


class CpuMeter:
    """Where the CPU goes while the concurrent tasks run: per component, per step."""

    def __init__(self, pids: dict[str, list[int | None]]) -> None:
        self.pids = pids
        self._start: dict[str, float] = {}

    def read(self) -> dict[str, float]:
        # The driver is the parent of everything else: only its own time counts for it.
        return {
            name: sum(_cpu_seconds(p, tree=name != "driver") for p in pids)
            for name, pids in self.pids.items()
        }

    def start(self) -> None:
        self._start = self.read()

    def per_step_ms(self, steps: int) -> dict[str, float]:
        now = self.read()
        return {
            f"cpu_ms_per_step_{name}": round((now[name] - self._start[name]) * 1000 / steps, 4)
            for name in now
        }


class Events:
    """Lifecycle events as they arrive: step start times per task, and completions."""

    def __init__(self) -> None:
        self.starts: dict[str, list[datetime]] = defaultdict(list)
        self.created: dict[str, datetime] = {}
        self.finished: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.finished_at: dict[str, float] = {}
        self.failed: list[str] = []

    async def on_msg(self, msg: Msg) -> None:
        event = json.loads(msg.data)["data"]
        kind = event["kind"]
        task = event["task_id"]
        if kind == "task_created":
            self.created[task] = datetime.fromisoformat(event["occurred_at"])
        elif kind == "step_started":
            self.starts[task].append(datetime.fromisoformat(event["occurred_at"]))
        elif kind in ("completed", "failed", "cancelled"):
            if kind != "completed":
                self.failed.append(task)
            self.finished_at[task] = time.perf_counter()
            self.finished[task].set()

    def first_step_ms(self, tasks: list[str]) -> list[float]:
        """From a task's creation (its own event; the first step is dispatched in the same
        cycle) to the second step's dispatch, i.e. the first step done."""
        return [
            (sorted(self.starts[t])[1] - self.created[t]).total_seconds() * 1000
            for t in tasks
            if t in self.created and len(self.starts[t]) > 1
        ]

    def step_gaps_ms(self, tasks: list[str]) -> list[float]:
        gaps: list[float] = []
        for task in tasks:
            starts = sorted(self.starts[task])
            gaps += [(b - a).total_seconds() * 1000 for a, b in itertools.pairwise(starts)]
        return gaps


async def _create(bus: Bus, plan: PlanV1) -> str:
    request = CreateTaskV1(
        request_id=new_id(),
        goal="count to ten",
        plan=plan,
        constraints=TaskConstraintsV1(max_parallel=1),
    )
    task: TaskV1 = await bus.request(TASK_CREATE_RPC, request, org_id=ORG, actor=USER, timeout=60)
    return task.task_id


async def _wait_healthy(bus: Bus, replicas: list[asyncio.subprocess.Process]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for proc in replicas:
            if proc.returncode is not None:
                raise RuntimeError("a tentacle replica exited during start")
        try:
            health = await bus.request(HEALTH, HealthCheckV1(), timeout=2)
            if health.status is HealthStatus.OK:
                return
        except Exception:  # still starting
            await asyncio.sleep(0.2)
    raise RuntimeError("tentacle did not become healthy")


async def run() -> dict[str, Any]:
    with nats_server() as nats, postgres_server() as pg:
        platform = PlatformSettings(nats_url=nats.url)
        env = {
            **os.environ,
            "FLUXOS_NATS_URL": nats.url,
            "FLUXOS_DATABASE_URL": pg.url(),
            "FLUXOS_DATABASE_PREFIX": "bench",
            "FLUXOS_SECRET_KEY": secrets.token_hex(16),
            "FLUXOS_LOG_LEVEL": "WARNING",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        bus = await Bus(platform, name="bench-driver").connect()
        await ensure_streams(bus.js, (BENCH_STREAM, RAW_STREAM, DEAD_LETTER_STREAM), replicas=1)
        replicas = []
        for n in range(REPLICAS):
            replicas.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "tentacle",
                    env={**env, "TENTACLE_INSTANCE_ID": f"bench-{n}"},
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
            await _wait_healthy(bus, replicas)
        meter = CpuMeter(
            {
                "tentacle": [p.pid for p in replicas],
                "postgres": [pg.pid],
                "nats": [nats.pid],
                "driver": [os.getpid()],
            }
        )
        try:
            return await _measure(bus, nats.url, meter)
        finally:
            for proc in replicas:
                proc.terminate()
            for proc in replicas:
                await proc.wait()
            await bus.close()


async def _measure(bus: Bus, url: str, meter: CpuMeter) -> dict[str, Any]:
    floor = TwoProcess(url, count=400, warmup=100)
    await floor.start()
    raw = await floor.jetstream(typed=False, round_=0)
    await floor.stop()

    events = Events()
    sub = await bus.nc.subscribe(TASK_PROGRESSED.filter(org_id=ORG), cb=events.on_msg)
    plan = chain()

    for _ in range(WARMUP):
        task = await _create(bus, plan)
        await asyncio.wait_for(events.finished[task].wait(), 30)

    serial: list[str] = []
    for _ in range(SERIAL):
        task = await _create(bus, plan)
        await asyncio.wait_for(events.finished[task].wait(), 30)
        serial.append(task)

    meter.start()
    started = time.perf_counter()
    created_at: list[float] = []

    async def create_one() -> str:
        task = await _create(bus, plan)
        created_at.append(time.perf_counter())
        return task

    concurrent = await asyncio.gather(*(create_one() for _ in range(CONCURRENT)))
    await asyncio.wait_for(asyncio.gather(*(events.finished[t].wait() for t in concurrent)), 300)
    finishes = sorted(events.finished_at[t] for t in concurrent)
    elapsed = finishes[-1] - started
    cpu = meter.per_step_ms(CONCURRENT * STEPS)
    first_steps = events.first_step_ms(concurrent)
    # Two cores are shared: whatever else ran meanwhile shows here (steps_per_s depends on it,
    # the CPU per step much less).
    load_1m = os.getloadavg()[0]
    await sub.unsubscribe()

    isolated = events.step_gaps_ms(serial)
    loaded = events.step_gaps_ms(concurrent)
    raw_p50 = percentile(raw, 50)
    step_p50 = percentile(isolated, 50)
    steps_per_s = CONCURRENT * STEPS / elapsed
    return {
        "tasks": CONCURRENT,
        "steps_per_task": STEPS,
        "replicas": REPLICAS,
        "failed_tasks": len(events.failed),
        "raw_js_roundtrip_p50_ms": round(raw_p50, 4),
        "raw_js_roundtrip_p99_ms": round(percentile(raw, 99), 4),
        "step_overhead_p50_ms": round(step_p50, 4),
        "step_overhead_p99_ms": round(percentile(isolated, 99), 4),
        "ratio_p50": round(step_p50 / raw_p50, 3),
        "steps_per_s": round(steps_per_s, 1),
        "ms_per_step_at_concurrency": round(1000 / steps_per_s, 4),
        "loaded_step_latency_p50_ms": round(percentile(loaded, 50), 4),
        "loaded_step_latency_p99_ms": round(percentile(loaded, 99), 4),
        "concurrent_wall_s": round(elapsed, 3),
        "creates_done_s": round(max(created_at) - started, 3),
        "first_step_done_p50_ms": round(percentile(first_steps, 50), 2),
        "first_step_done_p99_ms": round(percentile(first_steps, 99), 2),
        "tail_last_10pct_s": round(finishes[-1] - finishes[int(len(finishes) * 0.9)], 3),
        "busy_cores": round(sum(cpu.values()) * CONCURRENT * STEPS / 1000 / elapsed, 2),
        "load_average_1m": round(load_1m, 2),
        **cpu,
        "cpu_bound_steps_per_s_on_2_cores": round(
            2000 / sum(v for k, v in cpu.items() if not k.endswith("driver")), 1
        ),
        "target_step_overhead_p50_ms": 2.0,
        "target_steps_per_s": 1000,
    }


def main() -> int:
    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        result = asyncio.run(run())
    report(result)
    return 0
