"""The inbox: 1,000 SSE streams on one inbox process while task lifecycle events flow.

inkpass, tentacle and the inbox run as in production (`python -m <service>`, own processes) on a
real nats-server and PostgreSQL started for the run; this process is every client.

* event_to_client: lifecycle events (`TaskEventV1` on `TASK_PROGRESSED`, stamped with their
  publication time) go through the inbox's durable consumer, the projection's transaction in
  PostgreSQL, the feed announcement and every replica's fan-out; measured from publication to
  receipt, for every event at every stream. Each client is an `asyncio.Protocol` on a real
  socket that notes the time as each chunk arrives and parses the chunks later, between events;
  the clients used to be StreamReader tasks parsing as they read, which cost this process ~10 ms
  of its own per event across 1,000 sockets and so measured itself as much as the inbox. The
  clients' loop is uvloop (as the services'), which reads the sockets faster still. Ten
  events go through the inbox before the streams open (`warmup_events`): its first projections
  compile and prepare their statements, a once-per-process cost that is not the steady state.
* task_create_per_s: authenticated `POST /api/v1/tasks` (bearer token, authorised by inkpass,
  created by tentacle) from concurrent keep-alive connections, while the streams stay open.
* creates_event_to_client: during those creations, tentacle's own lifecycle events (several per
  task, as fast as tasks are created) at every stream, measured from the event's time in
  tentacle (its transaction, before its outbox publishes it), so it includes tentacle's outbox.
  Kept apart from event_to_client, whose events are stamped at publication.
* event_spread: per event, from its receipt at the first stream to its receipt at the last
  (how long one entry's fan-out to every stream takes, as the clients see it).
* event_to_feed: the part of event_to_client spent before the projection appended the entry
  (consumer delivery and the projection's transaction).
* rss_mib: the inbox process's resident memory with every stream open, after the events.
* floor: a raw core-NATS publish to a raw subscriber in this process (the least any hop costs).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import json
import os
import secrets
import socket
import time
from datetime import UTC, datetime

import psutil
from pydantic import SecretStr

from bench.auth import Inbox as Mailbox
from bench.auth import child, postgres_server, sign_up
from bench.harness import nats_server, percentile, report
from bench.http_client import HttpConnection
from contracts.envelope import Actor, ActorKind
from contracts.ids import new_id
from contracts.mimic.subjects import SEND
from contracts.tentacle.events import StepCompletedDetailV1, TaskEventKind, TaskEventV1
from contracts.tentacle.models import TaskStatus
from contracts.tentacle.subjects import TASK_PROGRESSED
from shared.bus import Bus
from shared.settings import PlatformSettings

CLIENTS = int(os.environ.get("BENCH_SSE_CLIENTS", "1000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "200"))
WARMUP_EVENTS = 10
EVENT_INTERVAL_S = 0.05
CREATE_SECONDS = 5.0
CREATE_WORKERS = 16
FLOOR_SAMPLES = 1000
_SOURCE = b'"source_at":"'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Stream(asyncio.Protocol):
    """One SSE client on a raw socket: notes when each chunk arrives, parses them afterwards.

    A protocol rather than a StreamReader: `data_received` is called straight from the event
    loop's read of the socket, so the receipt time is taken as the bytes arrive and costs a
    clock read and a list append. A reader task per stream (as this bench had) cost every event
    a thousand task wake-ups here, which showed up in the measured latency as this process's
    own lag, not the inbox's."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.arrivals: list[tuple[float, int, bool]] = []
        """Per chunk after the headers: receipt time, the body's length so far, and whether
        task creations were under way."""
        self.length = 0
        self.latencies: list[float] = []
        self.appended: list[float] = []
        self.during_creates: list[float] = []
        self.creating = False
        self.events = 0
        self.refused = 0
        self._head = b""
        self._tail = b""
        self._status: asyncio.Future[bool] | None = None
        self._closed: asyncio.Future[None] | None = None

    async def run(self, port: int, token: str, opened: asyncio.Event, counter: list[int]) -> None:
        loop = asyncio.get_running_loop()
        request = (
            f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        while True:  # as EventSource does: a refused connection is retried after a pause
            self._head = b""
            self._status = loop.create_future()
            self._closed = loop.create_future()
            transport, _ = await loop.create_connection(lambda: self, "127.0.0.1", port)
            transport.write(request)
            if await self._status:
                break
            self.refused += 1
            transport.close()
            await asyncio.sleep(1.0)
        counter[0] += 1
        if counter[0] >= CLIENTS:
            opened.set()
        try:
            await self._closed
        finally:
            transport.close()

    def data_received(self, data: bytes) -> None:
        now = time.time()
        status = self._status
        if status is not None and not status.done():
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            status.set_result(b" 200 " in self._head[: self._head.find(b"\r\n")])
            data = self._head[end + 4 :]
            if not data:
                return
        self.chunks.append(data)
        self.length += len(data)
        self.arrivals.append((now, self.length, self.creating))
        # Counted as they come (the run waits for all of them); the tail catches a marker that
        # one chunk ends and the next begins.
        self.events += (self._tail + data).count(_SOURCE)
        self._tail = data[1 - len(_SOURCE) :]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._status is not None and not self._status.done():
            self._status.set_result(False)
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def digest(self) -> None:
        """Turn the whole events received so far into latencies and let their bytes go: per
        stamped event, publication to receipt of the chunk that completed it (kept apart while
        tasks were being created), and publication to the projection's append. Called between
        events, not as they arrive, so parsing never delays a receipt time."""
        body = b"".join(self.chunks)
        self.chunks = [body]
        base = self.length - len(body)  # the body's offset in the whole stream
        complete = body.rfind(b"\n\n") + 2
        if complete < 2:
            return
        ends = [end for _, end, _ in self.arrivals]
        at = body.find(_SOURCE, 0, complete)
        while at >= 0:
            start = at + len(_SOURCE)
            stamp = body[start : body.find(b'"', start)].decode()
            done = base + body.find(b"\n\n", start) + 2
            received, _, creating = self.arrivals[bisect.bisect_left(ends, done)]
            if stamp.startswith("20"):
                sent = datetime.fromisoformat(stamp).timestamp()
                if creating:
                    self.during_creates.append((received - sent) * 1000)
                else:
                    self.latencies.append((received - sent) * 1000)
                    # The entry's own time: when the projection appended it.
                    a = body.find(b'"at":"', start) + 6
                    entry_at = datetime.fromisoformat(body[a : body.find(b'"', a)].decode())
                    self.appended.append((entry_at.timestamp() - sent) * 1000)
            at = body.find(_SOURCE, start, complete)
        self.chunks = [body[complete:]] if complete < len(body) else []
        # Arrivals ending at or before what was consumed are no longer needed.
        self.arrivals = self.arrivals[bisect.bisect_left(ends, base + complete) :]


async def digest_until_cancelled(streams: list[Stream]) -> None:
    """While tasks are created (thousands of events at every stream), parse as they come so
    the bytes do not pile up; these latencies are measured in seconds, a parse's lag is noise."""
    while True:
        await asyncio.sleep(0.5)
        for stream in streams:
            stream.digest()


async def nats_floor(bus: Bus) -> list[float]:
    samples: list[float] = []
    got = asyncio.Event()

    async def on_msg(msg: object) -> None:
        got.set()

    sub = await bus.nc.subscribe("bench.inbox.floor", cb=on_msg)
    await bus.nc.flush()
    for _ in range(FLOOR_SAMPLES):
        got.clear()
        started = time.perf_counter()
        await bus.nc.publish("bench.inbox.floor", b"x" * 600)
        await got.wait()
        samples.append((time.perf_counter() - started) * 1000)
    await sub.unsubscribe()
    return samples


async def publish_events(bus: Bus, org_id: str, count: int) -> None:
    task_id = new_id()
    for seq in range(1, count + 1):
        event = TaskEventV1(
            org_id=org_id,
            task_id=task_id,
            seq=seq,
            kind=TaskEventKind.STEP_COMPLETED,
            status=TaskStatus.EXECUTING,
            occurred_at=datetime.now(UTC),
            detail=StepCompletedDetailV1(
                step_id=f"s{seq}", agent="noop", attempt=1, plan_version=1, preview="done"
            ),
        )
        await bus.publish(
            TASK_PROGRESSED, event, org_id=org_id, actor=Actor(kind=ActorKind.SYSTEM, id="bench")
        )
        await asyncio.sleep(EVENT_INTERVAL_S)


async def create_tasks(port: int, token: str) -> float:
    body = json.dumps(
        {"goal": "bench", "plan": {"steps": [{"id": "a", "agent": "noop", "inputs": {}}]}}
    ).encode()
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    failed = 0
    deadline = time.perf_counter() + CREATE_SECONDS

    async def worker() -> None:
        nonlocal done, failed
        conn = HttpConnection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                status, _ = await conn.post("/api/v1/tasks", body, headers)
                if status == 201:
                    done += 1
                else:
                    failed += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CREATE_WORKERS)))
    if failed:
        raise RuntimeError(f"{failed} task creations failed")
    return done / (time.perf_counter() - started)


async def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status = await reader.readline()
            writer.close()
            if b" 200 " in status:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("the inbox did not become ready")


async def run() -> dict[str, float | int | str]:
    with nats_server() as nats, postgres_server() as pg:
        secret = secrets.token_urlsafe(48)
        platform = PlatformSettings(
            nats_url=nats.url,
            database_url=pg.url(),
            database_prefix="bench",
            secret_key=SecretStr(secret),
            log_level="WARNING",
        )
        port = free_port()
        env = {
            "FLUXOS_NATS_URL": nats.url,
            "FLUXOS_DATABASE_URL": pg.url(),
            "FLUXOS_DATABASE_PREFIX": "bench",
            "FLUXOS_SECRET_KEY": secret,
            "FLUXOS_LOG_LEVEL": "WARNING",
            "INBOX_HTTP_PORT": str(port),
            "INBOX_RATE_LIMIT_PER_MINUTE": "1000000",
            "INBOX_RATE_LIMIT_BURST": "100000",
            "INBOX_SSE_HEARTBEAT_SECONDS": "15",
        }
        async with (
            child(["-m", "inkpass"], env),
            child(["-m", "tentacle"], env),
            child(["-m", "inbox"], env) as inbox_proc,
        ):
            bus = await Bus(platform, name="bench-client").connect()
            mailbox = Mailbox()
            await bus.nc.subscribe(SEND.wildcard, cb=mailbox.on_msg)
            await wait_ready(port)
            _, tokens = await sign_up(bus, mailbox)
            token = tokens.access_token.get_secret_value()

            floor = await nats_floor(bus)
            # Events before any stream opens: the inbox's first projections compile their
            # statements and prepare them on each pooled connection (tens of ms each, once per
            # process), which would otherwise be most of the top 1% of deliveries.
            await publish_events(bus, tokens.org_id, WARMUP_EVENTS)
            await asyncio.sleep(2.0)  # projected before the streams start at the feed's head

            streams = [Stream() for _ in range(CLIENTS)]
            opened = asyncio.Event()
            counter = [0]
            tasks = []
            for i, stream in enumerate(streams):
                tasks.append(asyncio.create_task(stream.run(port, token, opened, counter)))
                if i % 50 == 49:
                    await asyncio.sleep(0.05)  # connect in waves, as browsers do
            await asyncio.wait_for(opened.wait(), 120)
            # This one process stands for 1,000 browsers: a full collection of its own heap
            # (60-80 ms, traced with gc.callbacks) stops all of them at once, and the event
            # arriving meanwhile was measured late at every stream, though the inbox had sent
            # it (the spike around the 11th event). What start-up and the streams' opening
            # made lives to the end: frozen, the collector no longer walks it.
            gc.collect()
            gc.freeze()

            await publish_events(bus, tokens.org_id, EVENTS)
            deadline = time.monotonic() + 60
            while sum(s.events for s in streams) < CLIENTS * EVENTS:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            rss = psutil.Process(inbox_proc.pid).memory_info().rss / (1024 * 1024)
            delivered = sum(s.events for s in streams)
            for stream in streams:
                stream.digest()  # after the events: parsing them delayed none

            for stream in streams:
                stream.creating = True
            digesting = asyncio.create_task(digest_until_cancelled(streams))
            create_rate = await create_tasks(port, token)
            await asyncio.sleep(2.0)  # the last creations' events, still on their way
            digesting.cancel()

            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await bus.close()

    for stream in streams:
        stream.digest()
    # Per event, from the first stream's receipt to the last's: the fan-out's own length.
    spreads = [
        max(column) - min(column)
        for column in zip(*(s.latencies for s in streams), strict=False)
        if len(column) == len(streams)
    ] or [0.0]
    latencies = [x for s in streams for x in s.latencies]
    appended = [x for s in streams for x in s.appended]
    during_creates = [x for s in streams for x in s.during_creates] or [0.0]
    p50 = percentile(latencies, 50)
    p99 = percentile(latencies, 99)
    floor_p50 = percentile(floor, 50)
    floor_p99 = percentile(floor, 99)
    return {
        "sse_clients": CLIENTS,
        "events": EVENTS,
        "warmup_events": WARMUP_EVENTS,
        "deliveries_expected": CLIENTS * EVENTS,
        "deliveries": delivered,
        "connections_refused_then_retried": sum(s.refused for s in streams),
        "event_to_client_p50_ms": round(p50, 3),
        "event_to_client_p99_ms": round(p99, 3),
        "event_spread_p50_ms": round(percentile(spreads, 50), 3),
        "event_to_feed_p50_ms": round(percentile(appended, 50), 3),
        "event_to_feed_p99_ms": round(percentile(appended, 99), 3),
        "task_create_per_s": round(create_rate, 1),
        "creates_event_to_client_p50_ms": round(percentile(during_creates, 50), 3),
        "creates_event_to_client_p99_ms": round(percentile(during_creates, 99), 3),
        "rss_mib": round(rss, 1),
        "nats_floor_p50_ms": round(floor_p50, 4),
        "nats_floor_p99_ms": round(floor_p99, 4),
        "ratio_p99_to_floor": round(p99 / floor_p99, 1) if floor_p99 else 0.0,
    }


def main() -> int:
    # uvloop, as the services run: each event is a read on 1,000 sockets here, and the clients
    # must keep up with the inbox's writes for the receipt times to be the inbox's.
    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        result = asyncio.run(run())
    report(result)
    return 0
