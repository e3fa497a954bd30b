"""Bad input to workspace objects: a clear code, nothing changed, nothing of another tenant
revealed. Unknown operators, injection through field paths and values, dangerous patterns,
enormous and deeply nested documents, another organisation's ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.ids import new_id
from contracts.platform.errors import BusErrorCode
from contracts.tentacle.objects import (
    OBJECT_CREATE,
    OBJECT_DELETE,
    OBJECT_GET,
    OBJECT_QUERY,
    OBJECT_SEARCH,
    OBJECT_UPDATE,
    CreateObjectV1,
    DeleteObjectV1,
    GetObjectV1,
    ObjectV1,
    QueryObjectsV1,
    SearchObjectsV1,
    UpdateObjectV1,
)
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from shared.bus import RemoteError
from shared.service import ServiceApp
from tests.tentacle.conftest import Caller
from tests.tentacle.test_objects import create, query


async def refused(caller: Caller, subject: Any, payload: Any) -> str:
    with pytest.raises(RemoteError) as caught:
        await caller.ask(subject, payload)
    return caught.value.code


def where(filter_: dict[str, Any]) -> QueryObjectsV1:
    return QueryObjectsV1(type="contact", where=filter_)


@pytest.fixture
async def ada(tentacle: ServiceApp, caller: Caller) -> ObjectV1:
    return await create(caller, "contact", {"name": "Ada", "age": 36, "company": "Acme"})


async def everything(caller: Caller) -> list[ObjectV1]:
    return (await query(caller, limit=500)).objects


BAD_FILTERS: list[tuple[dict[str, Any], E]] = [
    ({"$where": "sleep(1)"}, E.FILTER_INVALID),
    ({"age": {"$expr": 1}}, E.FILTER_INVALID),
    ({"age": {"$gt": 1, "$bogus": 2}}, E.FILTER_INVALID),
    ({"name": {"$options": "i"}}, E.FILTER_INVALID),
    ({"name": {"$regex": "a", "$options": "x"}}, E.FILTER_INVALID),
    ({"age": {"$gt": True}}, E.FILTER_INVALID),
    ({"age": {"$gt": {"nested": 1}}}, E.FILTER_INVALID),
    ({"age": {"$in": 5}}, E.FILTER_INVALID),
    ({"age": {"$in": list(range(201))}}, E.FILTER_INVALID),
    ({"age": {"$exists": "yes"}}, E.FILTER_INVALID),
    ({"$or": []}, E.FILTER_INVALID),
    ({"$and": {"a": 1}}, E.FILTER_INVALID),
    # Injection through field paths: refused before any SQL is written.
    ({"name') OR 1=1 --": "x"}, E.FILTER_INVALID),
    ({'name" = name OR "': "x"}, E.FILTER_INVALID),
    ({"data->>'x'": "x"}, E.FILTER_INVALID),
    ({"a..b": 1}, E.FILTER_INVALID),
    ({".".join(["a"] * 9): 1}, E.FILTER_INVALID),
    ({"a b": 1}, E.FILTER_INVALID),
    ({"name": "\x00"}, E.FILTER_INVALID),
    # Patterns that can take exponential time, and oversized ones.
    ({"name": {"$regex": "(a+)+$"}}, E.REGEX_REJECTED),
    ({"name": {"$regex": "(x*)*y"}}, E.REGEX_REJECTED),
    ({"name": {"$regex": r"(a)\1"}}, E.REGEX_REJECTED),
    ({"name": {"$regex": "a" * 300}}, E.REGEX_REJECTED),
    ({"name": {"$regex": "(unclosed"}}, E.REGEX_REJECTED),
    ({"name": {"$regex": "a{5000}"}}, E.REGEX_REJECTED),
]


async def test_bad_filters_get_a_clear_code(ada: ObjectV1, caller: Caller) -> None:
    for filter_, code in BAD_FILTERS:
        assert await refused(caller, OBJECT_QUERY, where(filter_)) == code, filter_
    assert await everything(caller) == [ada]


async def test_alternation_under_a_quantifier_runs_in_linear_time(
    ada: ObjectV1, caller: Caller
) -> None:
    """`(a|aa)+` is exponential for a backtracking engine; PostgreSQL's `~` runs it as an
    automaton (no back-references: `regex_guard`), so it is allowed, and it answers at once
    on a long adversarial string, well inside the statement timeout."""
    long = await create(caller, "note", {"text": "a" * 200_000 + "!"})
    short = await create(caller, "note", {"text": "aaaa"})
    page = await query(caller, type="note", where={"text": {"$regex": "^(a|aa)+$"}})
    assert [o.id for o in page.objects] == [short.id]
    page = await query(caller, type="note", where={"text": {"$regex": "^(a|aa)+!$"}})
    assert [o.id for o in page.objects] == [long.id]


async def test_oversized_and_deeply_nested_filters_are_refused(
    ada: ObjectV1, caller: Caller
) -> None:
    many = {"$and": [{"age": {"$gt": i}} for i in range(65)]}
    assert await refused(caller, OBJECT_QUERY, where(many)) == E.FILTER_INVALID
    deep: dict[str, Any] = {"age": 36}
    for _ in range(12):
        deep = {"$and": [deep]}
    assert await refused(caller, OBJECT_QUERY, where(deep)) == E.FILTER_INVALID


async def test_injection_in_values_is_only_data(ada: ObjectV1, caller: Caller) -> None:
    for value in ("x' OR '1'='1", "'; DELETE FROM workspace_objects; --", "Ada\\"):
        assert (await query(caller, where={"name": value})).objects == []
        assert (await query(caller, where={"name": {"$gt": value}})).objects in ([], [ada])
        assert (await query(caller, where={"name": {"$contains": value}})).objects == []
    hits = await caller.ask(OBJECT_SEARCH, SearchObjectsV1(query="'); DROP TABLE x; -- & | !"))
    assert hits.hits == []
    assert [o.id for o in await everything(caller)] == [ada.id]


async def test_enormous_deep_or_unstorable_documents_change_nothing(
    ada: ObjectV1, caller: Caller
) -> None:
    big = CreateObjectV1(type="note", data={"text": "x" * 300_000})
    assert await refused(caller, OBJECT_CREATE, big) == E.OBJECT_INVALID
    too_big_for_the_bus = CreateObjectV1(type="note", data={"text": "x" * 2_000_000})
    assert await refused(caller, OBJECT_CREATE, too_big_for_the_bus) == BusErrorCode.OVERSIZE
    nested: dict[str, Any] = {"leaf": 1}
    for _ in range(40):
        nested = {"n": nested}
    deep = CreateObjectV1(type="note", data=nested)
    assert await refused(caller, OBJECT_CREATE, deep) == E.OBJECT_INVALID
    nul = CreateObjectV1(type="note", data={"text": "a\x00b"})
    assert await refused(caller, OBJECT_CREATE, nul) == E.OBJECT_INVALID
    nul_key = CreateObjectV1(type="note", data={"a\x00": 1})
    assert await refused(caller, OBJECT_CREATE, nul_key) == E.OBJECT_INVALID
    grow = UpdateObjectV1(id=ada.id, data={"bio": "y" * 300_000})
    assert await refused(caller, OBJECT_UPDATE, grow) == E.OBJECT_INVALID
    assert await everything(caller) == [ada]


async def test_malformed_requests_are_refused_by_the_contract(
    ada: ObjectV1, caller: Caller
) -> None:
    bad_type = {"type": "Note.*", "data": {}}
    bad_id = {"id": "a.b>"}
    too_many = {"type": "contact", "limit": 10_000}
    bad_order = {"type": "contact", "order_by": "data.name; DROP TABLE x"}
    for subject, payload in (
        (OBJECT_CREATE, bad_type),
        (OBJECT_GET, bad_id),
        (OBJECT_QUERY, too_many),
        (OBJECT_QUERY, bad_order),
    ):
        envelope = {
            "meta": {
                "message_id": new_id(),
                "type": subject.payload.__name__,
                "org_id": caller.org_id,
                "actor": {"kind": "user", "id": "ada"},
                "call_id": new_id(),
                "root_call_id": new_id(),
            },
            "data": payload,
        }
        raw = json.dumps(envelope).encode()
        reply = json.loads(await caller.bus.request_raw(subject.template, raw, timeout=5))
        assert reply["error"]["code"] == BusErrorCode.INVALID_PAYLOAD, payload
    assert await everything(caller) == [ada]


async def test_another_organisations_ids_are_not_found_and_untouched(
    ada: ObjectV1, caller: Caller, stranger: Caller
) -> None:
    assert await refused(stranger, OBJECT_GET, GetObjectV1(id=ada.id)) == E.OBJECT_NOT_FOUND
    update = UpdateObjectV1(id=ada.id, data={"name": "Eve"})
    assert await refused(stranger, OBJECT_UPDATE, update) == E.OBJECT_NOT_FOUND
    assert await refused(stranger, OBJECT_DELETE, DeleteObjectV1(id=ada.id)) == E.OBJECT_NOT_FOUND
    # The same id is free in another organisation: its use reveals nothing of the first.
    theirs = await create(stranger, "contact", {"name": "Eve"}, id=ada.id)
    assert theirs.org_id == stranger.org_id
    assert (await query(stranger, where={"name": "Ada"})).objects == []
    assert (await caller.ask(OBJECT_SEARCH, SearchObjectsV1(query="Eve"))).hits == []
    assert await everything(caller) == [ada]
    assert [o.id for o in await everything(stranger)] == [ada.id]
    assert (await everything(stranger))[0].data == {"name": "Eve"}
