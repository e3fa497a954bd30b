"""Workspace objects and memory through the real tentacle service.

Its own nats-server and PostgreSQL (fsync on), `python -m tentacle` as a separate process,
driven over the bus like any caller, with one organisation holding 100,000 objects of five
types (events, contacts, notes, projects and a custom `ticket` type):

* the types declare the fields they are ordered and range-filtered by as indexed (`"x-index":
  true` in their schemas: an event's `start`, a contact's `name`), as a user would, before the
  objects arrive;
* `insert_per_s`: bulk inserts of 500 objects, two requests in flight (each object validated,
  indexed, and announced by an event through the outbox);
* `filter_p50_ms` / `filter_p99_ms`: a mix of filtered, ordered pages of 50 (equality on a
  field, a date range ordered by date, a numeric range with `$in`, tags, a regex) over RPC;
* `fts_p50_ms` / `fts_p99_ms`: ranked full-text search with snippets, 20 hits;
* `memory_search_p50_ms`: ranked memory search over 2,000 memories (full text: no embedder);
* the reads are timed once the service has worked through the insert's 100,000 change events
  (its trigger consumers of object events caught up: `events_drain_s` after the last insert),
  so they measure queries, not queries competing with that backlog in the same process;
* the raw floor, in the same run: the same filter SQL sent straight to PostgreSQL over one
  asyncpg connection (`pg_filter_p50_ms`), a bare `SELECT 1` (`pg_select1_p50_ms`), and the
  ratios of the service's figures to the filter floor.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg

from bench.harness import nats_server, postgres_server, report, summary
from contracts.envelope import Actor, ActorKind
from contracts.platform.health import HealthCheckV1, HealthStatus
from contracts.tentacle import HEALTH
from contracts.tentacle.memory import MEMORY_SEARCH, MEMORY_STORE, SearchMemoryV1, StoreMemoryV1
from contracts.tentacle.objects import (
    OBJECT_BULK_INSERT,
    OBJECT_EVENTS_STREAM,
    OBJECT_QUERY,
    OBJECT_SCHEMA_PUT,
    OBJECT_SEARCH,
    BulkInsertObjectsV1,
    NewObjectV1,
    PutObjectSchemaV1,
    QueryObjectsV1,
    SearchObjectsV1,
)
from contracts.tentacle.triggers import OBJECT_EVENTS_CONSUMERS
from shared.bus import Bus
from shared.db.urls import database_name
from shared.settings import PlatformSettings
from tentacle.adapters import object_store
from tentacle.adapters.object_store import Order

OBJECTS: Final = int(os.environ.get("BENCH_OBJECTS", "100000"))
BATCH: Final = 500
QUERIES: Final = int(os.environ.get("BENCH_QUERIES", "400"))
MEMORIES: Final = 2000
ORG: Final = "bench"
USER: Final = Actor(kind=ActorKind.USER, id="bench")
COMPANIES: Final = [f"Company {i}" for i in range(200)]
STATUSES: Final = ["planned", "active", "blocked", "done", "cancelled"]
EPOCH: Final = datetime(2026, 1, 1, tzinfo=UTC)

_SYLLABLES: Final = [
    "ka", "lo", "mi", "ner", "ta", "vo", "sen", "ri", "pa", "dul", "gen", "ox", "ber", "cha",
    "fi", "mon", "ul", "tra", "zen", "quo", "lin", "das", "pe", "hor",
]  # fmt: skip


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def make_object(rng: random.Random, words: list[str], i: int) -> NewObjectV1:
    def text(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    roll = rng.random()
    when = EPOCH + timedelta(minutes=rng.randint(0, 365 * 24 * 60))
    if roll < 0.30:
        data: dict[str, Any] = {
            "title": text(3),
            "start": when.isoformat(),
            "end": (when + timedelta(hours=1)).isoformat(),
            "location": {"room": rng.randint(1, 40), "building": rng.choice("ABCD")},
            "attendees": [f"person{rng.randint(0, 500)}" for _ in range(rng.randint(1, 4))],
            "status": rng.choice(STATUSES),
        }
        return NewObjectV1(type="event", data=data, tags=[rng.choice(["work", "home", "team"])])
    if roll < 0.55:
        data = {
            "name": f"{text(1).title()} {text(1).title()}",
            "email": f"user{i}@example.com",
            "company": rng.choice(COMPANIES),
            "role": rng.choice(["engineer", "sales", "manager", "founder"]),
            "age": rng.randint(20, 70),
        }
        return NewObjectV1(type="contact", data=data)
    if roll < 0.80:
        data = {"title": text(4), "content": text(rng.randint(30, 60))}
        return NewObjectV1(type="note", data=data, tags=[rng.choice(["idea", "meeting", "todo"])])
    if roll < 0.90:
        data = {
            "name": text(2),
            "status": rng.choice(STATUSES),
            "deadline": when.date().isoformat(),
            "budget": rng.randint(1_000, 1_000_000),
            "team": [f"person{rng.randint(0, 500)}" for _ in range(3)],
        }
        return NewObjectV1(type="project", data=data)
    data = {"title": text(5), "priority": rng.randint(1, 5), "body": text(20)}
    return NewObjectV1(type="ticket", data=data, tags=["support"])


SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "event": {"type": "object", "properties": {"start": {"type": "string", "x-index": True}}},
    "contact": {"type": "object", "properties": {"name": {"type": "string", "x-index": True}}},
}


def indexed(object_type: str | None) -> list[tuple[str, ...]]:
    schema = SCHEMAS.get(object_type or "")
    if schema is None:
        return []
    return [(name,) for name, sub in schema["properties"].items() if sub.get("x-index")]


def filter_query(rng: random.Random, words: list[str]) -> QueryObjectsV1:
    kind = rng.randrange(5)
    if kind == 0:
        return QueryObjectsV1(
            type="contact",
            where={"company": rng.choice(COMPANIES)},
            order_by="data.name",
        )
    if kind == 1:
        start = EPOCH + timedelta(days=rng.randint(0, 358))
        return QueryObjectsV1(
            type="event",
            where={
                "start": {
                    "$gte": start.date().isoformat(),
                    "$lt": (start + timedelta(days=7)).date().isoformat(),
                }
            },
            order_by="data.start",
        )
    if kind == 2:
        return QueryObjectsV1(
            type="project",
            where={
                "budget": {"$gte": rng.randint(1_000, 900_000)},
                "status": {"$in": ["active", "blocked"]},
            },
        )
    if kind == 3:
        return QueryObjectsV1(
            type="note", tags_any=[rng.choice(["idea", "meeting", "todo"])], order_by="-created_at"
        )
    return QueryObjectsV1(
        type="contact",
        where={"role": "founder", "age": {"$lt": rng.randint(25, 60)}, "email": {"$regex": "1"}},
    )


async def _wait_healthy(bus: Bus, proc: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError("tentacle exited during start")
        try:
            health = await bus.request(HEALTH, HealthCheckV1(), timeout=2)
            if health.status is HealthStatus.OK:
                return
        except Exception:  # still starting
            await asyncio.sleep(0.3)
    raise RuntimeError("tentacle did not become healthy")


async def _timed(calls: list[Any]) -> list[float]:
    samples = []
    for call in calls:
        began = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


async def insert_all(bus: Bus, rng: random.Random, words: list[str]) -> float:
    batches = [
        [make_object(rng, words, i) for i in range(n, min(n + BATCH, OBJECTS))]
        for n in range(0, OBJECTS, BATCH)
    ]
    queue = list(reversed(batches))

    async def worker() -> None:
        while queue:
            batch = queue.pop()
            await bus.request(
                OBJECT_BULK_INSERT,
                BulkInsertObjectsV1(objects=batch),
                org_id=ORG,
                actor=USER,
                timeout=120,
            )

    began = time.perf_counter()
    await asyncio.gather(worker(), worker())
    return OBJECTS / (time.perf_counter() - began)


async def drained(bus: Bus, timeout: float = 900.0) -> float:
    """Seconds until every consumer of the object change events has nothing left to do."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        busy = 0
        for consumer in OBJECT_EVENTS_CONSUMERS:
            info = await bus.js.consumer_info(OBJECT_EVENTS_STREAM.name, consumer.durable)
            busy += (info.num_pending or 0) + (info.num_ack_pending or 0)
        if not busy:
            return time.perf_counter() - began
        await asyncio.sleep(0.5)
    raise RuntimeError("the object change events were not consumed in time")


async def pg_floor(url: str, requests: list[QueryObjectsV1]) -> tuple[list[float], list[float]]:
    """The filter SQL the service runs, straight to PostgreSQL (no bus, no service, no RLS
    setting: the admin connection), and a bare round trip."""
    conn = await asyncpg.connect(url)
    try:
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=lambda s: s, schema="pg_catalog"
        )
        await conn.execute("SET plan_cache_mode = force_custom_plan")
        filters = []
        for request in requests:
            sql, params = object_store.build_query(
                ORG,
                object_type=request.type,
                where=dict(request.where),
                tags_any=list(request.tags_any),
                tags_all=list(request.tags_all),
                order=Order.parse(request.order_by),
                limit=request.limit,
                cursor=None,
                indexed=indexed(request.type),
            )
            began = time.perf_counter()
            await conn.fetch(sql, *params)
            filters.append((time.perf_counter() - began) * 1000)
        ones = []
        for _ in range(200):
            began = time.perf_counter()
            await conn.fetchval("SELECT 1")
            ones.append((time.perf_counter() - began) * 1000)
        return filters, ones
    finally:
        await conn.close()


async def run() -> dict[str, Any]:
    rng = random.Random(5)
    words = vocabulary(rng)
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
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tentacle",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await _wait_healthy(bus, proc)
            for object_type, schema in SCHEMAS.items():
                await bus.request(
                    OBJECT_SCHEMA_PUT,
                    PutObjectSchemaV1(type=object_type, json_schema=schema),
                    org_id=ORG,
                    actor=USER,
                    timeout=60,
                )
            insert_per_s = await insert_all(bus, rng, words)
            events_drain_s = await drained(bus)
            admin = await asyncpg.connect(pg.url(database_name("bench", "tentacle")))
            await admin.execute("VACUUM ANALYZE workspace_objects")
            await admin.close()

            async def ask(subject: Any, payload: Any) -> Any:
                return await bus.request(subject, payload, org_id=ORG, actor=USER, timeout=30)

            requests = [filter_query(rng, words) for _ in range(QUERIES)]
            for request in requests[:20]:  # warm the service's and the server's caches
                await ask(OBJECT_QUERY, request)
            filters = await _timed([lambda r=r: ask(OBJECT_QUERY, r) for r in requests])
            searches = [
                SearchObjectsV1(query=" ".join(rng.sample(words, rng.choice([1, 1, 2]))))
                for _ in range(QUERIES // 2)
            ]
            fts = await _timed([lambda r=r: ask(OBJECT_SEARCH, r) for r in searches])
            for i in range(MEMORIES):
                await ask(
                    MEMORY_STORE,
                    StoreMemoryV1(
                        key=f"mem:{i}",
                        title=" ".join(rng.sample(words, 3)),
                        body=" ".join(rng.choice(words) for _ in range(40)),
                        topic=rng.choice(["engineering", "sales", "preferences"]),
                    ),
                )
            recalls = [SearchMemoryV1(text=" ".join(rng.sample(words, 2))) for _ in range(100)]
            memory = await _timed([lambda r=r: ask(MEMORY_SEARCH, r) for r in recalls])
            floor, ones = await pg_floor(pg.url(database_name("bench", "tentacle")), requests)
        finally:
            proc.terminate()
            await proc.wait()
            await bus.close()
    f, s, m, raw, one = (
        summary(filters),
        summary(fts),
        summary(memory),
        summary(floor),
        summary(ones),
    )
    return {
        "objects": OBJECTS,
        "insert_per_s": round(insert_per_s, 1),
        "events_drain_s": round(events_drain_s, 1),
        "filter_p50_ms": f["p50"],
        "filter_p99_ms": f["p99"],
        "fts_p50_ms": s["p50"],
        "fts_p99_ms": s["p99"],
        "memory_search_p50_ms": m["p50"],
        "memory_search_p99_ms": m["p99"],
        "pg_filter_p50_ms": raw["p50"],
        "pg_filter_p99_ms": raw["p99"],
        "pg_select1_p50_ms": one["p50"],
        "filter_ratio_p50": round(f["p50"] / raw["p50"], 2) if raw["p50"] else None,
    }


def main() -> int:
    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        result = asyncio.run(run())
    report(result)
    return 0
