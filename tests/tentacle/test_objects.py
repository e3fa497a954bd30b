"""Workspace objects over tentacle's bus contracts: create, get, update, delete, bulk insert,
filtered and paginated queries, full-text search, schemas per type, change events, and the
fast path answering from real objects."""

from __future__ import annotations

from typing import Any

import pytest
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.tentacle.models import TaskStatus
from contracts.tentacle.objects import (
    OBJECT_BULK_INSERT,
    OBJECT_CREATE,
    OBJECT_CREATED,
    OBJECT_DELETE,
    OBJECT_GET,
    OBJECT_QUERY,
    OBJECT_SCHEMA_PUT,
    OBJECT_SEARCH,
    OBJECT_UPDATE,
    BulkInsertObjectsV1,
    CreateObjectV1,
    DeleteObjectV1,
    GetObjectV1,
    NewObjectV1,
    ObjectChangedV1,
    ObjectPageV1,
    ObjectV1,
    PutObjectSchemaV1,
    QueryObjectsV1,
    SearchObjectsV1,
    UpdateMode,
    UpdateObjectV1,
)
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from shared.bus import Bus, RemoteError
from shared.bus.codec import decode
from shared.service import ServiceApp
from tests.tentacle.conftest import ORG, Caller

CONTACTS: list[dict[str, Any]] = [
    {"name": "Ada Lovelace", "email": "ada@acme.io", "company": "Acme", "age": 36},
    {"name": "Grace Hopper", "email": "grace@navy.mil", "company": "Navy", "age": 85},
    {"name": "Alan Turing", "email": "alan@acme.io", "company": "Acme", "age": 41},
    {"name": "Edsger Dijkstra", "email": "ewd@utexas.edu", "company": "UT", "age": 72},
]


async def create(caller: Caller, type_: str, data: dict[str, Any], **kw: Any) -> ObjectV1:
    result: ObjectV1 = await caller.ask(OBJECT_CREATE, CreateObjectV1(type=type_, data=data, **kw))
    return result


async def query(caller: Caller, **kw: Any) -> ObjectPageV1:
    result: ObjectPageV1 = await caller.ask(OBJECT_QUERY, QueryObjectsV1(**kw))
    return result


async def names(caller: Caller, **kw: Any) -> list[str]:
    page = await query(caller, **kw)
    return [str(o.data.get("name") or o.data.get("title")) for o in page.objects]


async def refused(caller: Caller, subject: Any, payload: Any) -> str:
    with pytest.raises(RemoteError) as caught:
        await caller.ask(subject, payload)
    return caught.value.code


async def changes(bus: Bus, org_id: str = ORG) -> list[ObjectChangedV1]:
    sub = await bus.js.pull_subscribe(
        f"tentacle.v1.evt.object.{org_id}.>",
        durable=None,
        stream="TENTACLE_WORKSPACE_EVENTS",
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=5.0),
    )
    out: list[ObjectChangedV1] = []
    try:
        while True:
            try:
                batch = await sub.fetch(500, timeout=0.5)
            except (TimeoutError, NatsTimeout):
                break
            for msg in batch:
                out.append(decode(OBJECT_CREATED, msg.data, strict=True, max_bytes=1 << 24).data)
                await msg.ack()
    finally:
        await sub.unsubscribe()
    return out


async def test_create_get_update_delete_with_versions_and_events(
    tentacle: ServiceApp, caller: Caller, bus: Bus
) -> None:
    note = await create(
        caller, "note", {"title": "Plan", "body": {"text": "draft", "n": 1}}, tags=["b", "a"]
    )
    assert (note.version, note.tags, note.created_by) == (1, ["a", "b"], caller.actor)
    assert await caller.ask(OBJECT_GET, GetObjectV1(id=note.id)) == note

    merged: ObjectV1 = await caller.ask(
        OBJECT_UPDATE,
        UpdateObjectV1(id=note.id, data={"body": {"n": 2, "text": None}, "done": False}),
    )
    assert merged.data == {"title": "Plan", "body": {"n": 2}, "done": False}
    assert merged.version == 2

    stale = UpdateObjectV1(id=note.id, data={"title": "x"}, expected_version=1)
    assert await refused(caller, OBJECT_UPDATE, stale) == E.OBJECT_VERSION_CONFLICT
    replaced: ObjectV1 = await caller.ask(
        OBJECT_UPDATE,
        UpdateObjectV1(
            id=note.id, data={"title": "New"}, mode=UpdateMode.REPLACE, expected_version=2
        ),
    )
    assert (replaced.data, replaced.version, replaced.tags) == ({"title": "New"}, 3, ["a", "b"])

    await caller.ask(OBJECT_DELETE, DeleteObjectV1(id=note.id, expected_version=3))
    assert await refused(caller, OBJECT_GET, GetObjectV1(id=note.id)) == E.OBJECT_NOT_FOUND
    assert await refused(caller, OBJECT_DELETE, DeleteObjectV1(id=note.id)) == E.OBJECT_NOT_FOUND

    seen = [e for e in await changes(bus) if e.object_id == note.id]
    assert [(e.change.value, e.version) for e in seen] == [
        ("created", 1),
        ("updated", 2),
        ("updated", 3),
        ("deleted", 3),
    ]
    assert all(e.object_type == "note" and e.org_id == ORG for e in seen)


async def test_bulk_insert_is_all_or_nothing(tentacle: ServiceApp, caller: Caller) -> None:
    inserted = await caller.ask(
        OBJECT_BULK_INSERT,
        BulkInsertObjectsV1(objects=[NewObjectV1(type="contact", data=c) for c in CONTACTS]),
    )
    assert len(inserted.ids) == 4
    again = BulkInsertObjectsV1(
        objects=[
            NewObjectV1(type="contact", data={"name": "New"}, id="bulk-new-1"),
            NewObjectV1(type="contact", data={"name": "Dup"}, id=inserted.ids[0]),
        ]
    )
    assert await refused(caller, OBJECT_BULK_INSERT, again) == E.OBJECT_EXISTS
    assert await refused(caller, OBJECT_GET, GetObjectV1(id="bulk-new-1")) == E.OBJECT_NOT_FOUND


def _indexing(*paths: str) -> dict[str, Any]:
    """A schema that only marks `paths` (dotted) as indexed fields."""
    schema: dict[str, Any] = {"type": "object"}
    for dotted in paths:
        node = schema
        for segment in dotted.split("."):
            node = node.setdefault("properties", {}).setdefault(segment, {})
        node["x-index"] = True
    return schema


@pytest.mark.parametrize("indexed", [False, True], ids=["plain", "indexed"])
async def test_filters_compare_numbers_dates_and_nested_fields(
    tentacle: ServiceApp, caller: Caller, indexed: bool
) -> None:
    if indexed:  # the same answers when the fields' expression indexes serve the filters
        for type_, paths in (
            ("person", ("name", "age", "company", "email")),
            ("meeting", ("start", "where.room.floor", "title")),
        ):
            schema = _indexing(*paths)
            await caller.ask(OBJECT_SCHEMA_PUT, PutObjectSchemaV1(type=type_, json_schema=schema))
    for contact in CONTACTS:
        await create(caller, "person", contact, tags=["vip"] if contact["age"] > 70 else [])
    events = [
        ("Standup", "2026-03-03T09:00:00+00:00", {"room": {"floor": 2}}, ["ada", "alan"]),
        ("Review", "2026-03-04T17:00:00+02:00", {"room": {"floor": 10}}, ["grace"]),
        ("Offsite", "2026-03-10", {"room": {"floor": 1}}, []),
    ]
    for title, start, where, attendees in events:
        await create(
            caller, "meeting", {"title": title, "start": start, "where": where, "who": attendees}
        )
    asc = "data.name"
    assert await names(caller, type="person", where={"age": {"$gt": 40}}, order_by=asc) == [
        "Alan Turing",
        "Edsger Dijkstra",
        "Grace Hopper",
    ]
    # Numbers as numbers: 10 > 9 (as text "10" < "9").
    assert await names(caller, type="meeting", where={"where.room.floor": {"$gte": 9}}) == [
        "Review"
    ]
    # Dates as instants: 17:00+02:00 is 15:00 UTC, before 16:00 UTC on the 4th.
    assert await names(
        caller,
        type="meeting",
        where={"start": {"$gte": "2026-03-04", "$lt": "2026-03-04T16:00:00Z"}},
    ) == ["Review"]
    assert await names(
        caller, type="meeting", where={"start": {"$gte": "2026-03-05"}}, order_by="data.start"
    ) == ["Offsite"]
    assert await names(caller, type="meeting", where={"start": "2026-03-04T15:00:00Z"}) == [
        "Review"
    ]
    assert await names(
        caller,
        type="meeting",
        where={"start": {"$in": ["2026-03-10", "2026-03-03T10:00:00+01:00", 7]}},
        order_by="data.start",
    ) == ["Standup", "Offsite"]
    assert await names(
        caller,
        type="meeting",
        where={"start": {"$nin": ["2026-03-10T00:00:00Z"]}, "title": {"$ne": "Review"}},
    ) == ["Standup"]
    assert await names(caller, type="person", where={"company": "Acme"}, order_by=asc) == [
        "Ada Lovelace",
        "Alan Turing",
    ]
    assert await names(
        caller, type="person", where={"company": {"$in": ["Navy", "UT"]}}, order_by=asc
    ) == ["Edsger Dijkstra", "Grace Hopper"]
    assert await names(
        caller, type="person", where={"company": {"$nin": ["Acme"]}, "age": {"$ne": 72}}
    ) == ["Grace Hopper"]
    assert await names(
        caller,
        type="person",
        where={"email": {"$regex": r"@ACME\.io$", "$options": "i"}},
        order_by=asc,
    ) == ["Ada Lovelace", "Alan Turing"]
    assert await names(caller, type="meeting", where={"who": {"$contains": "grace"}}) == ["Review"]
    assert await names(caller, type="person", where={"name": {"$contains": "HOP"}}) == [
        "Grace Hopper"
    ]
    assert await names(
        caller,
        type="person",
        where={"$or": [{"age": {"$lt": 37}}, {"company": "UT"}]},
        order_by=asc,
    ) == ["Ada Lovelace", "Edsger Dijkstra"]
    assert await names(
        caller, type="person", where={"$not": {"company": "Acme"}}, order_by=asc
    ) == ["Edsger Dijkstra", "Grace Hopper"]
    assert await names(caller, type="person", where={"age": {"$not": {"$lt": 80}}}) == [
        "Grace Hopper"
    ]
    assert await names(
        caller,
        type="meeting",
        where={"where.room.floor": {"$exists": True}, "nothing": {"$exists": False}},
        order_by="data.start",
    ) == ["Standup", "Review", "Offsite"]
    assert await names(caller, type="person", tags_any=["vip"], order_by=asc) == [
        "Edsger Dijkstra",
        "Grace Hopper",
    ]
    assert await names(caller, type="person", tags_all=["vip", "other"]) == []


async def test_ordering_and_cursor_pagination(tentacle: ServiceApp, caller: Caller) -> None:
    for i in range(23):
        await create(caller, "item", {"name": f"item-{i:02d}", "rank": (i * 7) % 23})
    seen: list[int] = []
    cursor = None
    while True:
        page = await query(caller, type="item", order_by="-data.rank", limit=5, cursor=cursor)
        seen += [int(str(o.data["rank"])) for o in page.objects]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(range(22, -1, -1))

    by_time: list[str] = []
    cursor = None
    while True:
        page = await query(caller, type="item", order_by="created_at", limit=10, cursor=cursor)
        by_time += [str(o.data["name"]) for o in page.objects]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert by_time == [f"item-{i:02d}" for i in range(23)]

    first = await query(caller, type="item", order_by="created_at", limit=10)
    assert first.next_cursor is not None
    other_order = QueryObjectsV1(type="item", order_by="updated_at", cursor=first.next_cursor)
    assert await refused(caller, OBJECT_QUERY, other_order) == E.CURSOR_INVALID
    garbage = QueryObjectsV1(type="item", cursor="not-a-cursor")
    assert await refused(caller, OBJECT_QUERY, garbage) == E.CURSOR_INVALID


async def test_full_text_search_ranks_and_highlights(tentacle: ServiceApp, caller: Caller) -> None:
    await create(caller, "note", {"title": "Quarterly budget", "body": "The budget for Q3."})
    await create(caller, "note", {"title": "Lunch", "body": "Pizza <b>maybe</b> budget"})
    await create(caller, "contact", {"name": "Bob", "notes": "nothing to see"})
    hits = (await caller.ask(OBJECT_SEARCH, SearchObjectsV1(query="budget"))).hits
    assert [h.object.data["title"] for h in hits] == ["Quarterly budget", "Lunch"]
    assert hits[0].rank > hits[1].rank > 0
    assert "<b>budget</b>" in hits[0].snippet
    # The document's own markup never comes through as HTML; only the highlight is.
    assert "maybe" in hits[1].snippet
    assert hits[1].snippet.count("<") == hits[1].snippet.count("<b>") + hits[1].snippet.count(
        "</b>"
    )
    none = await caller.ask(OBJECT_SEARCH, SearchObjectsV1(query="budget", type="contact"))
    assert none.hits == []


async def test_a_type_schema_is_enforced(tentacle: ServiceApp, caller: Caller) -> None:
    schema = {
        "type": "object",
        "properties": {"email": {"type": "string", "pattern": "@"}},
        "required": ["email"],
    }
    await caller.ask(OBJECT_SCHEMA_PUT, PutObjectSchemaV1(type="lead", json_schema=schema))
    ok = await create(caller, "lead", {"email": "a@b.c"})
    bad = CreateObjectV1(type="lead", data={"mail": "x"})
    assert await refused(caller, OBJECT_CREATE, bad) == E.OBJECT_INVALID
    breaking = UpdateObjectV1(id=ok.id, data={"email": "nope"})
    assert await refused(caller, OBJECT_UPDATE, breaking) == E.OBJECT_INVALID
    assert (await caller.ask(OBJECT_GET, GetObjectV1(id=ok.id))).data == {"email": "a@b.c"}
    not_schema = PutObjectSchemaV1(type="lead", json_schema={"type": "nonsense"})
    assert await refused(caller, OBJECT_SCHEMA_PUT, not_schema) == E.OBJECT_SCHEMA_INVALID
    await caller.ask(OBJECT_SCHEMA_PUT, PutObjectSchemaV1(type="lead", json_schema=None))
    await create(caller, "lead", {"mail": "x"})


async def test_the_fast_path_answers_from_workspace_objects(
    tentacle: ServiceApp, caller: Caller
) -> None:
    for contact in CONTACTS:
        await create(caller, "contact", contact)
    task = await caller.create("list contacts at Acme")
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.task.fast_path
    assert done.task.summary == "2 contacts at Acme: Ada Lovelace; Alan Turing."


async def test_a_page_of_large_objects_stops_before_it_outgrows_a_message(
    tentacle: ServiceApp, caller: Caller
) -> None:
    for i in range(6):
        await create(caller, "blob", {"n": i, "text": "word " * 40_000})  # ~200 KB each
    seen: list[int] = []
    pages = 0
    cursor = None
    while True:
        page = await query(caller, type="blob", order_by="data.n", limit=50, cursor=cursor)
        pages += 1
        seen += [int(str(o.data["n"])) for o in page.objects]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(range(6))
    assert pages > 1
