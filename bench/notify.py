"""Mimic's throughput: templated emails to the local SMTP sink, and verified webhooks in.

In one run, on one real nats-server and one PostgreSQL, with `python -m mimic` in its own
process as it runs under `fluxos up` (the dev provider: an SMTP sink inside mimic writing a
Maildir):

* emails: `EMAILS` SEND commands (system.otp, each to its own recipient) published at once;
  the clock stops when the last `delivered` event arrives. Each one goes through the whole
  path: consumer, row lock and journal, rate limits, sandboxed rendering, SMTP to the sink,
  Maildir write, status events through the outbox. The Maildir is counted afterwards.
* webhooks: `WEBHOOKS` Stripe-signed posts to a Stripe integration's ingress, `CONCURRENCY`
  in flight; each is verified, de-duplicated by event id and published before its 200. The
  events are counted in the stream afterwards. `ingress_p50_ms` is the client-side latency.
* floor, same servers, same run: raw JetStream publish-with-ack throughput (nats-py, the same
  concurrency), raw PostgreSQL transactions (asyncpg: BEGIN, INSERT, COMMIT), raw HTTP to an
  empty uvicorn endpoint in its own process, and the platform's transactional outbox
  (shared.db: one row and one event per transaction, published after commit), which every
  status change goes through. The ratios say how far mimic is from them.

The load generator shares the machine's two cores with mimic, PostgreSQL and NATS.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import mailbox
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import nats
import psutil
from nats.js.api import StreamConfig
from sqlalchemy import text

from bench.harness import percentile, report
from bench.http_client import HttpConnection
from contracts.envelope import Actor, ActorKind
from contracts.mimic import HEALTH
from contracts.mimic.models import (
    Channel,
    CreateIntegrationV1,
    NotificationStatus,
    NotificationV1,
    Priority,
    RecipientV1,
    SendNotificationV1,
    StripeSettingsV1,
    TemplateRefV1,
)
from contracts.mimic.streams import WEBHOOKS as WEBHOOK_STREAM
from contracts.mimic.subjects import INTEGRATION_CREATE, NOTIFICATION_QUEUED, SEND
from contracts.platform.health import HealthCheckV1, HealthStatus
from contracts.registry import STREAMS
from shared.bus import Bus, BusTimeout, BusUnavailable
from shared.bus.provisioning import ensure_streams
from shared.db import Database, migrate
from shared.runtime.nats_server import NatsServer
from shared.runtime.postgres_server import PostgresServer
from shared.runtime.process import free_port, spawn, stop, tail
from shared.settings import PlatformSettings

EMAILS = int(os.environ.get("BENCH_EMAILS", 2_000))
WEBHOOKS = int(os.environ.get("BENCH_WEBHOOKS", 3_000))
CONCURRENCY = 32
FLOOR_OPS = 3_000
ORG = "bench-org"
STRIPE_SECRET = "whsec_bench_secret"  # noqa: S105 - signs fake events against a throwaway server


@contextmanager
def servers(base: Path) -> Iterator[tuple[NatsServer, PostgresServer]]:
    base.chmod(0o711)
    nats_server = NatsServer(store_dir=base / "nats", name="bench-notify", max_file_store="64G")
    postgres = PostgresServer(base_dir=base / "postgres", fsync=False)
    nats_server.start()
    try:
        postgres.start()
        try:
            yield nats_server, postgres
        finally:
            postgres.stop()
    finally:
        nats_server.stop()


async def _wait_healthy(bus: Bus, proc: Any, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"mimic exited early:\n{tail(log)}")
        try:
            if (await bus.request(HEALTH, HealthCheckV1(), timeout=1)).status is HealthStatus.OK:
                return
        except (BusUnavailable, BusTimeout):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"mimic not healthy:\n{tail(log)}")
        await asyncio.sleep(0.2)


async def _concurrently(count: int, work: Callable[[int, int], Awaitable[None]]) -> float:
    """Run `work(i, worker)` for every i with CONCURRENCY workers; seconds it took."""
    queue = iter(range(count))

    async def worker(number: int) -> None:
        for i in queue:
            await work(i, number)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
    return time.perf_counter() - started


# ------------------------------------------------------------------------------ floors
async def nats_floor(url: str) -> float:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="FLOOR", subjects=["floor.>"]))
    body = os.urandom(600)

    async def publish(i: int, _: int) -> None:
        await js.publish(f"floor.{i % 16}", body, headers={"Nats-Msg-Id": f"f-{i}"})

    seconds = await _concurrently(FLOOR_OPS, publish)
    await js.delete_stream("FLOOR")
    await nc.close()
    return FLOOR_OPS / seconds


async def postgres_floor(postgres: PostgresServer) -> float:
    admin = await asyncpg.connect(postgres.url())
    await admin.execute("create database floor")
    await admin.close()
    pool = await asyncpg.create_pool(postgres.url("floor"), min_size=10, max_size=10)
    async with pool.acquire() as conn:
        await conn.execute("create table t (id bigint primary key, org text, body jsonb)")

    async def transaction(i: int, _: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("insert into t values ($1, 'o', '{}'::jsonb)", i)

    seconds = await _concurrently(FLOOR_OPS, transaction)
    await pool.close()
    return FLOOR_OPS / seconds


async def outbox_floor(postgres: PostgresServer, bus: Bus) -> float:
    """The platform's own floor for "a state change and its event": a transaction writing one
    row and staging one event, committed and published (shared.db's transactional outbox).
    Every email needs two of these (before and after the provider call)."""
    admin = await asyncpg.connect(postgres.url())
    await admin.execute("create database outbox_floor")
    await admin.close()
    url = postgres.url("outbox_floor")
    await migrate(url)
    db = Database(url, publisher=bus.publish_message)
    await db.connect()
    async with db.transaction() as uow:
        await uow.session.execute(text("create table t (id bigint primary key, body text)"))
    now = datetime.now(UTC)
    event = NotificationV1(
        notification_id="floor",
        org_id=ORG,
        idempotency_key="floor",
        channel=Channel.EMAIL,
        recipient="floor@example.com",
        priority=Priority.NORMAL,
        status=NotificationStatus.QUEUED,
        queued_at=now,
        updated_at=now,
    )

    async def change(i: int, _: int) -> None:
        async with db.transaction(org_id=ORG) as uow:
            await uow.session.execute(text("insert into t values (:i, 'x')"), {"i": i})
            uow.publish(bus.message(NOTIFICATION_QUEUED, event, org_id=ORG))

    seconds = await _concurrently(FLOOR_OPS, change)
    await db.dispose()
    return FLOOR_OPS / seconds


FLOOR_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})
"""


async def http_floor(base: Path) -> float:
    (base / "floor_app.py").write_text(FLOOR_APP)
    port = free_port()
    log = base / "floor_http.log"
    env = {**os.environ, "PYTHONPATH": str(base)}
    argv = [
        "python", "-m", "uvicorn", "floor_app:app", "--port", str(port), "--log-level",
        "warning", "--no-access-log", "--loop", "uvloop",
    ]  # fmt: skip
    proc = spawn(argv, env=env, log=log)
    try:
        probe = HttpConnection("127.0.0.1", port)
        for _ in range(100):
            try:
                await probe.post("/", b"{}")
                break
            except OSError:
                await asyncio.sleep(0.1)
        await probe.close()
        body = os.urandom(300).hex().encode()
        connections = [HttpConnection("127.0.0.1", port) for _ in range(CONCURRENCY)]

        async def post(i: int, worker: int) -> None:
            status, _ = await connections[worker].post("/", body)
            if status != 200:
                raise RuntimeError(f"floor answered {status}")

        seconds = await _concurrently(FLOOR_OPS, post)
        for connection in connections:
            await connection.close()
    finally:
        stop(proc)
    return FLOOR_OPS / seconds


# ------------------------------------------------------------------------------ mimic
def cpu_seconds(pid: int | None) -> float:
    """CPU a process and its children have used so far: live ones, and the exited ones it
    waited for (PostgreSQL's backends are the postmaster's children)."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        own = root.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for child in root.children(recursive=True):
            try:
                times = child.cpu_times()
            except psutil.NoSuchProcess:  # exited meanwhile: counted by its parent once reaped
                continue
            total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def cpu_snapshot(pids: dict[str, int | None]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_ms_per(
    before: dict[str, float], after: dict[str, float], count: int, what: str
) -> dict[str, float]:
    """Milliseconds of CPU per email (or webhook) for each process, over one phase."""
    return {
        f"cpu_ms_per_{what}_{name}": round((after[name] - before[name]) * 1000 / count, 3)
        for name in before
    }


async def emails(bus: Bus, maildir: Path) -> tuple[float, float]:
    delivered = 0
    done = asyncio.Event()

    async def on_delivered(msg: Any) -> None:
        nonlocal delivered
        delivered += 1
        if delivered >= EMAILS:
            done.set()

    sub = await bus.nc.subscribe(f"mimic.v1.evt.notification.{ORG}.*.delivered", cb=on_delivered)
    started = time.perf_counter()
    for i in range(EMAILS):
        command = SendNotificationV1(
            idempotency_key=f"bench-email-{i}",
            to=RecipientV1(address=f"user{i}@example.com", name=f"User {i}"),
            template=TemplateRefV1(key="system.otp"),
            variables={"code": f"{i % 1_000_000:06d}", "expires_in_minutes": 10},
        )
        await bus.publish(SEND, command, org_id=ORG)
    published = time.perf_counter() - started
    await asyncio.wait_for(done.wait(), timeout=600)
    seconds = time.perf_counter() - started
    await sub.unsubscribe()
    box = mailbox.Maildir(maildir, create=False)
    stored = sum(1 for _ in box.iterkeys())
    if stored != EMAILS:
        raise RuntimeError(f"{stored} emails in the Maildir, expected {EMAILS}")
    return EMAILS / seconds, published


def _stripe_event(i: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "id": f"evt_bench_{i}",
            "object": "event",
            "type": "invoice.paid",
            "created": int(time.time()),
            "data": {"object": {"id": f"in_{i}", "amount_paid": 4200, "currency": "eur"}},
        }
    ).encode()
    t = int(time.time())
    signature = hmac.new(STRIPE_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256)
    return body, {"Stripe-Signature": f"t={t},v1={signature.hexdigest()}"}


async def webhooks(bus: Bus, port: int) -> tuple[float, list[float]]:
    hook = await bus.request(
        INTEGRATION_CREATE,
        CreateIntegrationV1(name="bench", settings=StripeSettingsV1(webhook_secret=STRIPE_SECRET)),
        org_id=ORG,
        actor=Actor(kind=ActorKind.USER, id="bench-user"),
    )
    latencies: list[float] = []
    prepared = [_stripe_event(i) for i in range(WEBHOOKS)]
    connections = [HttpConnection("127.0.0.1", port) for _ in range(CONCURRENCY)]

    async def post(i: int, worker: int) -> None:
        body, headers = prepared[i]
        began = time.perf_counter()
        status, answer = await connections[worker].post(hook.ingress_path, body, headers)
        latencies.append((time.perf_counter() - began) * 1000)
        if status != 200:
            raise RuntimeError(f"webhook {i}: {status} {answer[:200]!r}")

    seconds = await _concurrently(WEBHOOKS, post)
    for connection in connections:
        await connection.close()
    info = await bus.js.stream_info(WEBHOOK_STREAM.name)
    if info.state.messages != WEBHOOKS:
        raise RuntimeError(f"{info.state.messages} webhook events published, expected {WEBHOOKS}")
    return WEBHOOKS / seconds, latencies


async def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fluxos-bench-notify-") as tmp:
        base = Path(tmp)
        with servers(base) as (nats_server, postgres):
            floor = {
                "floor_nats_js_publish_per_s": round(await nats_floor(nats_server.url), 1),
                "floor_pg_tx_per_s": round(await postgres_floor(postgres), 1),
                "floor_http_per_s": round(await http_floor(base), 1),
            }
            admin = await Bus(PlatformSettings(nats_url=nats_server.url), name="floor").connect()
            await ensure_streams(admin.js, STREAMS, replicas=1)
            floor["floor_outbox_tx_per_s"] = round(await outbox_floor(postgres, admin), 1)
            await admin.close()
            home = base / "home"
            port = free_port()
            env = {
                **os.environ,
                "FLUXOS_NATS_URL": nats_server.url,
                "FLUXOS_DATABASE_URL": postgres.url(),
                "FLUXOS_DATABASE_PREFIX": "bench",
                "FLUXOS_SECRET_KEY": os.urandom(24).hex(),
                "FLUXOS_HOME": str(home),
                "FLUXOS_LOG_LEVEL": "WARNING",
                "MIMIC_HTTP_PORT": str(port),
                "MIMIC_RATE_ORG_PER_MINUTE": "1000000",
                "MIMIC_RATE_CHANNEL_PER_MINUTE": "1000000",
            }
            log = base / "mimic.log"
            profile = os.environ.get("BENCH_PROFILE_MIMIC")  # a path: cProfile mimic into it
            argv = ["python", "-m", "mimic"]
            if profile:
                argv = ["python", "-m", "cProfile", "-o", profile, "-m", "mimic"]
            proc = spawn(argv, env=env, log=log)
            bus = await Bus(PlatformSettings(nats_url=nats_server.url), name="bench").connect()
            try:
                await _wait_healthy(bus, proc, log)
                pids = {"mimic": proc.pid, "postgres": postgres.pid, "nats": nats_server.pid}
                before = cpu_snapshot(pids)
                emails_per_s, publish_s = await emails(bus, home / "mail")
                between = cpu_snapshot(pids)
                webhooks_per_s, latencies = await webhooks(bus, port)
                after = cpu_snapshot(pids)
                cpu = {
                    **cpu_ms_per(before, between, EMAILS, "email"),
                    **cpu_ms_per(between, after, WEBHOOKS, "webhook"),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                }
            finally:
                await bus.close()
                stop(proc)
    return {
        "emails": EMAILS,
        "emails_per_s": round(emails_per_s, 1),
        "emails_publish_s": round(publish_s, 3),
        "webhooks": WEBHOOKS,
        "webhooks_per_s": round(webhooks_per_s, 1),
        "ingress_p50_ms": round(percentile(latencies, 50), 3),
        "ingress_p99_ms": round(percentile(latencies, 99), 3),
        "concurrency": CONCURRENCY,
        **cpu,
        **floor,
        "emails_vs_pg_floor": round(emails_per_s / floor["floor_pg_tx_per_s"], 4),
        # An email is two outbox transactions: this ratio is 0.5 if nothing else cost anything.
        "emails_vs_outbox_floor": round(emails_per_s / floor["floor_outbox_tx_per_s"], 4),
        "webhooks_vs_pg_floor": round(webhooks_per_s / floor["floor_pg_tx_per_s"], 4),
        "webhooks_vs_http_floor": round(webhooks_per_s / floor["floor_http_per_s"], 4),
        "target_emails_per_s": 200,
        "target_webhooks_per_s": 1000,
    }


def main() -> int:
    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        result = asyncio.run(run())
    report(result)
    return 0
