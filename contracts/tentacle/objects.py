"""Workspace objects: the organisation's structured data (events, contacts, notes, projects and
any custom type) as JSON documents, with optional JSON Schema per type.

Requests are org-scoped by the envelope; an object id of another organisation is simply not
found. Every change is announced on `OBJECT_CREATED` / `OBJECT_UPDATED` / `OBJECT_DELETED`,
with the organisation and the object type as subject tokens.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import AwareDatetime, Field, JsonValue, StringConstraints

from contracts.envelope import Actor
from contracts.ids import OrgId, SubjectToken
from contracts.model import ContractModel
from contracts.streams import Stream
from contracts.subject import Subject, event, rpc

SERVICE: Final = "tentacle"

ObjectType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
"""A type name: lowercase word (it is a subject token of the change events)."""
ObjectId = SubjectToken
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
Tags = Annotated[list[Tag], Field(max_length=32)]
OrderBy = Annotated[
    str,
    StringConstraints(pattern=r"^-?(created_at|updated_at|data\.[A-Za-z0-9_.-]{1,200})$"),
]
"""`created_at`, `updated_at` or `data.<dotted path>`; a leading `-` sorts descending."""

MAX_PAGE: Final = 500
MAX_BULK: Final = 1000


class ObjectV1(ContractModel):
    id: ObjectId
    org_id: OrgId
    type: ObjectType
    data: dict[str, JsonValue]
    tags: list[str] = Field(default_factory=list)
    version: int = Field(ge=1, description="Starts at 1; every update adds one.")
    created_by: Actor
    updated_by: Actor
    created_at: AwareDatetime
    updated_at: AwareDatetime


class NewObjectV1(ContractModel):
    type: ObjectType
    data: dict[str, JsonValue]
    tags: Tags = Field(default_factory=list)
    id: ObjectId | None = Field(
        default=None, description="Choose the id (e.g. to retry safely); a new one if unset."
    )


class CreateObjectV1(NewObjectV1):
    """Create one object (`tentacle.object_exists` if `id` is taken)."""


class BulkInsertObjectsV1(ContractModel):
    """Insert up to 1000 objects in one transaction: all of them, or none (with the first error)."""

    objects: list[NewObjectV1] = Field(min_length=1, max_length=MAX_BULK)


class BulkInsertedV1(ContractModel):
    ids: list[ObjectId]


class GetObjectV1(ContractModel):
    id: ObjectId


class UpdateMode(StrEnum):
    MERGE = "merge"
    """JSON merge patch (RFC 7396): nested objects merge, `null` removes a field."""
    REPLACE = "replace"
    """`data` becomes exactly the given document."""


class UpdateObjectV1(ContractModel):
    id: ObjectId
    data: dict[str, JsonValue] | None = None
    mode: UpdateMode = UpdateMode.MERGE
    tags: Tags | None = Field(default=None, description="Replaces the tags when given.")
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse (`tentacle.object_version_conflict`) if not it."
    )


class DeleteObjectV1(ContractModel):
    id: ObjectId
    expected_version: int | None = Field(default=None, ge=1)


class ObjectDeletedV1(ContractModel):
    id: ObjectId
    version: int


class QueryObjectsV1(ContractModel):
    """A filtered, ordered page of objects.

    `where` is a MongoDB-style filter over `data`: `{"company": "Acme"}`,
    `{"start": {"$gte": "2026-01-30"}}`, `{"$or": [...]}`; operators `$eq $ne $gt $gte $lt $lte
    $in $nin $exists $regex $options $contains $not $and $or`. Numbers compare as numbers, ISO
    dates as dates.
    """

    type: ObjectType | None = None
    where: dict[str, JsonValue] = Field(default_factory=dict)
    tags_any: Tags = Field(default_factory=list)
    tags_all: Tags = Field(default_factory=list)
    order_by: OrderBy = "-updated_at"
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=4096, description="next_cursor of a page.")


class ObjectPageV1(ContractModel):
    objects: list[ObjectV1]
    next_cursor: str | None = None


class SearchObjectsV1(ContractModel):
    """Full-text search over every string in the objects' data, best first."""

    query: str = Field(min_length=1, max_length=500)
    type: ObjectType | None = None
    tags_any: Tags = Field(default_factory=list)
    limit: int = Field(default=20, ge=1, le=100)


class ObjectHitV1(ContractModel):
    object: ObjectV1
    rank: float
    snippet: str = Field(description="Matching words wrapped in <b>...</b>.")


class ObjectHitsV1(ContractModel):
    hits: list[ObjectHitV1]


class PutObjectSchemaV1(ContractModel):
    """Set (or with `json_schema` None, remove) the JSON Schema objects of a type must match.
    Later creates and updates are validated, and so are the objects that exist: if any does not
    match, the schema is refused (`tentacle.object_schema_conflict`, naming the first few) and
    nothing changes. A field marked `"x-index": true` in the schema gets an index for filters
    and ordering on it (at most 8 per type, 32 per organisation), built before the reply."""

    type: ObjectType
    json_schema: dict[str, Any] | None


class ObjectSchemaV1(ContractModel):
    type: ObjectType
    json_schema: dict[str, Any] | None


class GetObjectSchemaV1(ContractModel):
    """The JSON Schema of a type (`json_schema` None when the type has none)."""

    type: ObjectType


class ListObjectTypesV1(ContractModel):
    """Every type of the organisation: those with a schema and those that hold objects."""


class ObjectTypeInfoV1(ContractModel):
    type: ObjectType
    json_schema: dict[str, Any] | None = None
    count: int = Field(ge=0, description="How many objects of the type exist.")


class ObjectTypesV1(ContractModel):
    types: list[ObjectTypeInfoV1] = Field(description="By type name.")


class ObjectChange(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class ObjectChangedV1(ContractModel):
    """An object was created, updated or deleted (the object as it is after the change; for a
    delete, as it was)."""

    org_id: OrgId
    object_type: SubjectToken = Field(description="The object's type (a subject token).")
    object_id: ObjectId
    change: ObjectChange
    version: int
    object: ObjectV1


def _object_rpc(verb: str, payload: type[Any], reply: type[Any], summary: str) -> Subject[Any, Any]:
    return rpc(SERVICE, "object", verb, payload, reply, summary=summary)


OBJECT_CREATE = _object_rpc("create", CreateObjectV1, ObjectV1, "Create a workspace object.")
OBJECT_BULK_INSERT = _object_rpc(
    "bulk_insert", BulkInsertObjectsV1, BulkInsertedV1, "Insert many objects atomically."
)
OBJECT_GET = _object_rpc("get", GetObjectV1, ObjectV1, "One object by id.")
OBJECT_UPDATE = _object_rpc(
    "update", UpdateObjectV1, ObjectV1, "Merge into or replace an object's data (versioned)."
)
OBJECT_DELETE = _object_rpc("delete", DeleteObjectV1, ObjectDeletedV1, "Delete an object.")
OBJECT_QUERY = _object_rpc(
    "query", QueryObjectsV1, ObjectPageV1, "Filtered, ordered, paginated objects."
)
OBJECT_SEARCH = _object_rpc(
    "search", SearchObjectsV1, ObjectHitsV1, "Ranked full-text search with snippets."
)
OBJECT_SCHEMA_PUT = rpc(
    SERVICE,
    "object_schema",
    "put",
    PutObjectSchemaV1,
    ObjectSchemaV1,
    summary="Set or remove the JSON Schema of an object type.",
)

OBJECT_SCHEMA_GET = rpc(
    SERVICE,
    "object_schema",
    "get",
    GetObjectSchemaV1,
    ObjectSchemaV1,
    summary="The JSON Schema of an object type.",
)
OBJECT_TYPE_LIST = rpc(
    SERVICE,
    "object_type",
    "list",
    ListObjectTypesV1,
    ObjectTypesV1,
    summary="The organisation's object types, their schemas and object counts.",
)


def _object_event(verb: str, summary: str) -> Subject[ObjectChangedV1, None]:
    return event(
        SERVICE, "object", verb, ObjectChangedV1, tokens=("org_id", "object_type"), summary=summary
    )


OBJECT_CREATED = _object_event("created", "A workspace object was created.")
OBJECT_UPDATED = _object_event("updated", "A workspace object was updated.")
OBJECT_DELETED = _object_event("deleted", "A workspace object was deleted.")

OBJECT_EVENTS_STREAM = Stream(
    name="TENTACLE_WORKSPACE_EVENTS",
    subjects=(f"{SERVICE}.v1.evt.object.>", f"{SERVICE}.v1.evt.memory.>"),
    description="Changes of workspace objects and memories, for triggers and the inbox.",
    max_age=timedelta(days=30),
    max_bytes=8 * 1024 * 1024 * 1024,
)
