"""A type's schema over the bus: indexed fields become expression indexes that filters use
under row-level security, a new schema is checked against the objects that exist, and object
queries stop at their statement timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from contracts.tentacle.objects import (
    OBJECT_BULK_INSERT,
    OBJECT_CREATE,
    OBJECT_QUERY,
    OBJECT_SCHEMA_GET,
    OBJECT_SCHEMA_PUT,
    OBJECT_UPDATE,
    BulkInsertObjectsV1,
    CreateObjectV1,
    GetObjectSchemaV1,
    NewObjectV1,
    ObjectV1,
    PutObjectSchemaV1,
    QueryObjectsV1,
    UpdateObjectV1,
)
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from shared.bus import RemoteError
from shared.bus.codec import OutboundMessage
from shared.db.urls import to_asyncpg_dsn
from shared.service import ServiceApp
from tentacle.adapters import object_store, object_type_locks
from tentacle.adapters.object_store import Order
from tentacle.adapters.pg import TaskDb
from tentacle.domain.object_indexes import MAX_PER_TYPE, index_name
from tests.tentacle.conftest import ORG, Caller, Start


async def _nowhere(messages: Sequence[OutboundMessage]) -> None:
    raise AssertionError("nothing here publishes")


@pytest.fixture
async def db(tentacle: ServiceApp) -> AsyncIterator[TaskDb]:
    """Tentacle's database as the service's own role (row-level security applies)."""
    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    store = TaskDb(lambda: to_asyncpg_dsn(url), _nowhere, min_size=1, max_size=2)
    await store.connect()
    yield store
    await store.close()


async def put(caller: Caller, type_: str, schema: dict[str, Any] | None) -> None:
    await caller.ask(OBJECT_SCHEMA_PUT, PutObjectSchemaV1(type=type_, json_schema=schema))


async def refusal(caller: Caller, subject: Any, payload: Any) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        await caller.ask(subject, payload)
    return caught.value


def indexing(*fields: str, required: Sequence[str] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": list(required)}
    for name in fields:
        schema["properties"][name] = {"x-index": True}
    return schema


async def indexes(db: TaskDb) -> dict[str, bool]:
    async with db.transaction(org_id=ORG) as tx:
        rows = await tx.conn.fetch(
            "SELECT c.relname::text AS name, i.indisvalid AS valid FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = 'workspace_objects'::regclass AND c.relname LIKE 'wsx%'"
        )
    return {r["name"]: r["valid"] for r in rows}


async def plan(db: TaskDb, request: QueryObjectsV1, indexed: list[tuple[str, ...]]) -> str:
    """EXPLAIN of the statement the service runs for `request`, as the service runs it."""
    sql, params = object_store.build_query(
        ORG,
        object_type=request.type,
        where=dict(request.where),
        tags_any=[],
        tags_all=[],
        order=Order.parse(request.order_by),
        limit=request.limit,
        cursor=None,
        indexed=indexed,
    )
    async with db.transaction(org_id=ORG) as tx:
        await tx.conn.execute("ANALYZE workspace_objects")
        await object_store.limit_statement(tx.conn, 5_000)
        # A few hundred rows are cheap to scan whole; the question is whether the index *can*
        # serve the condition under row-level security, not whether it pays at this size.
        await tx.conn.execute("SET LOCAL enable_seqscan = off")
        rows = await tx.conn.fetch("EXPLAIN " + sql, *params)
    return "\n".join(r[0] for r in rows)


async def test_indexed_fields_get_indexes_that_filters_use_under_rls(
    tentacle: ServiceApp, caller: Caller, db: TaskDb
) -> None:
    objects = [
        NewObjectV1(
            type="slot",
            data={"start": f"2026-04-{1 + i % 28:02d}T{i % 24:02d}:00:00Z", "score": i, "n": i},
        )
        for i in range(400)
    ]
    await caller.ask(OBJECT_BULK_INSERT, BulkInsertObjectsV1(objects=objects))
    await put(caller, "slot", indexing("start", "score"))
    start, score = index_name(ORG, "slot", ["start"]), index_name(ORG, "slot", ["score"])
    assert await indexes(db) == {start: True, score: True}

    by_date = QueryObjectsV1(
        type="slot",
        where={"start": {"$gte": "2026-04-10", "$lt": "2026-04-11"}},
        order_by="data.start",
    )
    explained = await plan(db, by_date, [("start",), ("score",)])
    assert start in explained, explained
    assert "Index Cond: ((CASE WHEN" in explained, explained
    by_number = QueryObjectsV1(
        type="slot", where={"score": {"$in": [3, 5]}, "n": {"$lt": 9}}, order_by="data.score"
    )
    explained = await plan(db, by_number, [("start",), ("score",)])
    assert score in explained, explained
    assert "= ANY" in explained, explained
    page = await caller.ask(OBJECT_QUERY, by_date)
    assert [o.data["start"] for o in page.objects] == sorted(
        str(o.data["start"]) for o in objects if str(o.data["start"]).startswith("2026-04-10")
    )
    assert len(page.objects) == 14

    # Unmarking a field drops its index; removing the schema drops them all.
    await put(caller, "slot", indexing("start"))
    assert await indexes(db) == {start: True}
    await put(caller, "slot", None)
    assert await indexes(db) == {}


async def test_too_many_indexed_fields_are_refused(tentacle: ServiceApp, caller: Caller) -> None:
    fields = [f"f{i}" for i in range(MAX_PER_TYPE + 1)]
    payload = PutObjectSchemaV1(type="wide", json_schema=indexing(*fields))
    assert (await refusal(caller, OBJECT_SCHEMA_PUT, payload)).code == E.OBJECT_SCHEMA_INVALID
    odd = {"type": "object", "properties": {"a.b": {"x-index": True}}}
    payload = PutObjectSchemaV1(type="wide", json_schema=odd)
    assert (await refusal(caller, OBJECT_SCHEMA_PUT, payload)).code == E.OBJECT_SCHEMA_INVALID


async def test_a_new_schema_is_checked_against_existing_objects(
    tentacle: ServiceApp, caller: Caller
) -> None:
    documents: list[dict[str, Any]] = [
        {"email": "a@b.c"},
        {"mail": "x"},
        {"email": 7},
        {"email": "d@e.f"},
    ]
    made: list[ObjectV1] = [
        await caller.ask(OBJECT_CREATE, CreateObjectV1(type="lead", data=data))
        for data in documents
    ]
    strict = {
        "type": "object",
        "properties": {"email": {"type": "string"}},
        "required": ["email"],
    }
    error = await refusal(
        caller, OBJECT_SCHEMA_PUT, PutObjectSchemaV1(type="lead", json_schema=strict)
    )
    assert error.code == E.OBJECT_SCHEMA_CONFLICT
    assert error.details is not None
    assert error.details["invalid"] == 2
    assert [o["id"] for o in error.details["objects"]] == [made[1].id, made[2].id]
    assert made[1].id in error.message
    assert "fix or delete" in error.message
    assert all(o["violations"] for o in error.details["objects"])
    # Nothing changed: no schema, and documents the schema would refuse are still accepted.
    current = await caller.ask(OBJECT_SCHEMA_GET, GetObjectSchemaV1(type="lead"))
    assert current.json_schema is None
    await caller.ask(OBJECT_CREATE, CreateObjectV1(type="lead", data={"nothing": True}, id="n1"))

    # Migrate: fix what breaks it, delete the rest, then the schema is taken and enforced.
    fix = UpdateObjectV1(id=made[1].id, data={"email": "m@x.y", "mail": None})
    await caller.ask(OBJECT_UPDATE, fix)
    await caller.ask(OBJECT_UPDATE, UpdateObjectV1(id=made[2].id, data={"email": "seven@x.y"}))
    await caller.ask(OBJECT_UPDATE, UpdateObjectV1(id="n1", data={"email": "n@x.y"}))
    await put(caller, "lead", strict)
    bad = CreateObjectV1(type="lead", data={"mail": "y"})
    assert (await refusal(caller, OBJECT_CREATE, bad)).code == E.OBJECT_INVALID


async def test_a_write_during_a_schema_change_is_checked_against_the_new_schema(
    tentacle: ServiceApp, caller: Caller, db: TaskDb
) -> None:
    strict = {"type": "object", "required": ["email"]}
    # A schema change in progress, as `put_object_schema` makes it: the type's lock held,
    # the existing objects checked (none), the schema written, not yet committed.
    async with db.transaction(org_id=ORG) as tx:
        await object_type_locks.own(tx.conn, ORG, "lead")
        await object_store.put_schema(tx.conn, ORG, "lead", strict)
        create = asyncio.ensure_future(
            caller.ask(OBJECT_CREATE, CreateObjectV1(type="lead", data={"mail": "x"}), timeout=30)
        )
        await asyncio.sleep(1.0)
        assert not create.done()  # it waits rather than validating against no schema
    with pytest.raises(RemoteError) as caught:
        await create
    assert caught.value.code == E.OBJECT_INVALID


async def test_object_queries_stop_at_their_statement_timeout(
    start_tentacle: Start, caller: Caller
) -> None:
    await start_tentacle(workspace_query_timeout_ms=1)
    # About 3 MB of text for the regex to read: far beyond what a millisecond allows.
    text = " ".join(f"word{i}" for i in range(300))
    for _ in range(5):
        batch = [NewObjectV1(type="doc", data={"body": text}) for _ in range(200)]
        await caller.ask(OBJECT_BULK_INSERT, BulkInsertObjectsV1(objects=batch), timeout=60)
    slow = QueryObjectsV1(
        type="doc", where={"body": {"$regex": "[a-z]{3,9}[0-9]{5,9} zzz", "$options": "i"}}
    )
    error = await refusal(caller, OBJECT_QUERY, slow)
    assert error.code == E.QUERY_TIMEOUT
    assert "1 ms" in error.message
