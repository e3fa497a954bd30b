"""The organisation's object types and one type's schema, over tentacle's bus contracts: types
with a schema or with objects are listed (with their counts), per organisation only."""

from __future__ import annotations

from contracts.tentacle.objects import (
    OBJECT_CREATE,
    OBJECT_SCHEMA_GET,
    OBJECT_SCHEMA_PUT,
    OBJECT_TYPE_LIST,
    CreateObjectV1,
    GetObjectSchemaV1,
    ListObjectTypesV1,
    ObjectTypesV1,
    PutObjectSchemaV1,
)
from shared.service import ServiceApp
from tests.tentacle.conftest import Caller

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


async def types_of(caller: Caller) -> list[tuple[str, int, bool]]:
    listed: ObjectTypesV1 = await caller.ask(OBJECT_TYPE_LIST, ListObjectTypesV1())
    return [(t.type, t.count, t.json_schema is not None) for t in listed.types]


async def test_types_with_schemas_or_objects_are_listed_per_org(
    tentacle: ServiceApp, caller: Caller, stranger: Caller
) -> None:
    assert await types_of(caller) == []
    await caller.ask(OBJECT_SCHEMA_PUT, PutObjectSchemaV1(type="contact", json_schema=SCHEMA))
    for text in ("a", "b"):
        await caller.ask(OBJECT_CREATE, CreateObjectV1(type="note", data={"text": text}))
    await caller.ask(OBJECT_CREATE, CreateObjectV1(type="contact", data={"name": "Ada"}))
    assert await types_of(caller) == [("contact", 1, True), ("note", 2, False)]

    got = await caller.ask(OBJECT_SCHEMA_GET, GetObjectSchemaV1(type="contact"))
    assert got.json_schema == SCHEMA
    none = await caller.ask(OBJECT_SCHEMA_GET, GetObjectSchemaV1(type="note"))
    assert none.json_schema is None

    # Another organisation sees none of it.
    assert await types_of(stranger) == []
    theirs = await stranger.ask(OBJECT_SCHEMA_GET, GetObjectSchemaV1(type="contact"))
    assert theirs.json_schema is None

    # Removing the schema keeps the type listed while it holds objects.
    await caller.ask(OBJECT_SCHEMA_PUT, PutObjectSchemaV1(type="contact", json_schema=None))
    assert await types_of(caller) == [("contact", 1, False), ("note", 2, False)]
