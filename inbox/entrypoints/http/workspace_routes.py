"""Workspace objects and their types, over tentacle's contracts: each request authorised through
inkpass first (`tentacle.object.*`, `tentacle.object_type.*`).

Lists page by the cursor the previous page returned; `where` is tentacle's filter language
(MongoDB-style JSON, see `QueryObjectsV1`), given as JSON in the query string of a GET or in the
body of `POST /objects/query`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from contracts.ids import SubjectToken
from contracts.tentacle import objects as o
from inbox.domain.errors import CodedError
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, authorize_caller
from inbox.entrypoints.http.task_routes import dump
from inbox.entrypoints.http.workspace_calls import ask_workspace
from inbox.service.auth import Principal
from inbox.service.context import Inbox

router = APIRouter(prefix="/api/v1/workspace", tags=["workspace"])

TypeName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Cursor = Annotated[str | None, Query(max_length=4096)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchemaBody(Body):
    json_schema: dict[str, Any] | None = Field(
        description="A JSON Schema objects of the type must match; null removes it."
    )


class NewObject(Body):
    type: o.ObjectType
    data: dict[str, JsonValue]
    tags: o.Tags = Field(default_factory=list)
    id: o.ObjectId | None = Field(default=None, description="Choose the id (retries are safe).")


class ObjectChanges(Body):
    data: dict[str, JsonValue] | None = None
    mode: o.UpdateMode = o.UpdateMode.MERGE
    tags: o.Tags | None = None
    expected_version: int | None = Field(default=None, ge=1)


class ObjectQuery(Body):
    type: o.ObjectType | None = None
    where: dict[str, JsonValue] = Field(default_factory=dict)
    tags_any: o.Tags = Field(default_factory=list)
    tags_all: o.Tags = Field(default_factory=list)
    order_by: o.OrderBy = "-updated_at"
    limit: int = Field(default=50, ge=1, le=o.MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=4096)


# ---------------------------------------------------------------------- types
@router.get("/types", response_model=o.ObjectTypesV1)
async def list_types(principal: PrincipalDep, inbox: InboxDep, request: Request) -> dict[str, Any]:
    """The organisation's object types: each with its schema (or null) and object count."""
    await authorize_caller(inbox, principal, request, "tentacle.object_type.list", "object_type")
    return dump(await ask_workspace(inbox, principal, o.OBJECT_TYPE_LIST, o.ListObjectTypesV1()))


@router.get("/types/{type_name}", response_model=o.ObjectSchemaV1)
async def get_type(
    type_name: TypeName, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(
        inbox, principal, request, "tentacle.object_type.read", "object_type", type_name
    )
    payload = o.GetObjectSchemaV1(type=type_name)
    return dump(await ask_workspace(inbox, principal, o.OBJECT_SCHEMA_GET, payload))


@router.put("/types/{type_name}", response_model=o.ObjectSchemaV1)
async def put_type(
    type_name: TypeName,
    body: SchemaBody,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
) -> dict[str, Any]:
    """Define or change a type's schema (later writes are checked against it)."""
    await authorize_caller(
        inbox, principal, request, "tentacle.object_type.update", "object_type", type_name
    )
    payload = o.PutObjectSchemaV1(type=type_name, json_schema=body.json_schema)
    return dump(await ask_workspace(inbox, principal, o.OBJECT_SCHEMA_PUT, payload))


# ---------------------------------------------------------------------- objects
def parse_where(where: str | None) -> dict[str, JsonValue]:
    if where is None or not where.strip():
        return {}
    try:
        parsed = json.loads(where)
    except ValueError:
        raise CodedError(
            "inbox.malformed_filter", '`where` is not valid JSON (e.g. {"company": "Acme"})', 400
        ) from None
    if not isinstance(parsed, dict):
        raise CodedError("inbox.malformed_filter", "`where` must be a JSON object", 400)
    return parsed


async def query_page(
    inbox: Inbox, principal: Principal, request: Request, query: ObjectQuery
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.object.list", "object")
    payload = o.QueryObjectsV1(**query.model_dump())
    return dump(await ask_workspace(inbox, principal, o.OBJECT_QUERY, payload))


@router.get("/objects", response_model=o.ObjectPageV1)
async def list_objects(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    type: Annotated[o.ObjectType | None, Query()] = None,
    where: Annotated[str | None, Query(max_length=16_000, description="A JSON filter.")] = None,
    tag: Annotated[list[o.Tag] | None, Query(max_length=32, description="Any of.")] = None,
    order_by: Annotated[o.OrderBy, Query()] = "-updated_at",
    limit: Annotated[int, Query(ge=1, le=o.MAX_PAGE)] = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """A filtered, ordered page of objects; `next_cursor` fetches the next one."""
    query = ObjectQuery(
        type=type,
        where=parse_where(where),
        tags_any=tag or [],
        order_by=order_by,
        limit=limit,
        cursor=cursor,
    )
    return await query_page(inbox, principal, request, query)


@router.post("/objects/query", response_model=o.ObjectPageV1)
async def query_objects(
    body: ObjectQuery, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """The same as `GET /objects`, with the filter in a JSON body."""
    return await query_page(inbox, principal, request, body)


@router.get("/search", response_model=o.ObjectHitsV1)
async def search_objects(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    type: Annotated[o.ObjectType | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Full-text search over every string in the objects' data, best first."""
    await authorize_caller(inbox, principal, request, "tentacle.object.search", "object")
    payload = o.SearchObjectsV1(query=q, type=type, limit=limit)
    return dump(await ask_workspace(inbox, principal, o.OBJECT_SEARCH, payload))


@router.post("/objects", status_code=201, response_model=o.ObjectV1)
async def create_object(
    body: NewObject, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.object.create", "object", body.id)
    payload = o.CreateObjectV1(**body.model_dump())
    return dump(await ask_workspace(inbox, principal, o.OBJECT_CREATE, payload))


@router.get("/objects/{object_id}", response_model=o.ObjectV1)
async def get_object(
    object_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.object.read", "object", object_id)
    payload = o.GetObjectV1(id=object_id)
    return dump(await ask_workspace(inbox, principal, o.OBJECT_GET, payload))


@router.patch("/objects/{object_id}", response_model=o.ObjectV1)
async def update_object(
    object_id: SubjectToken,
    body: ObjectChanges,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
) -> dict[str, Any]:
    """Merge into (`mode: merge`, the default) or replace an object's data; versioned."""
    await authorize_caller(inbox, principal, request, "tentacle.object.update", "object", object_id)
    payload = o.UpdateObjectV1(id=object_id, **body.model_dump())
    return dump(await ask_workspace(inbox, principal, o.OBJECT_UPDATE, payload))


@router.delete("/objects/{object_id}", response_model=o.ObjectDeletedV1)
async def delete_object(
    object_id: SubjectToken,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.object.delete", "object", object_id)
    payload = o.DeleteObjectV1(id=object_id, expected_version=expected_version)
    return dump(await ask_workspace(inbox, principal, o.OBJECT_DELETE, payload))
