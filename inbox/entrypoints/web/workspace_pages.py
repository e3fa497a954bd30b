"""Workspace pages: the object types, a type's objects (filter, search, pages), an object's form
built from its type's schema, and creating, editing and deleting objects. Each reads and
writes through the same authorisation and contracts as the API."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.ids import is_token
from contracts.tentacle import objects as o
from inbox.domain.errors import InboxError, InvalidRequest, NotFound, http_status
from inbox.domain.object_forms import EXTRA, data_of, fields_of, properties
from inbox.entrypoints.http.deps import get_inbox
from inbox.entrypoints.http.workspace_calls import ask_workspace
from inbox.entrypoints.http.workspace_routes import parse_where
from inbox.entrypoints.web.pages import form, login_redirect, page, redirect, signed_in
from inbox.entrypoints.web.refusals import form_error, refusal
from inbox.service.auth import Principal, authorize
from inbox.service.context import Inbox

router = APIRouter(include_in_schema=False)

MAX_COLUMNS = 6


def _type_name(value: str) -> str:
    try:
        return str(o.GetObjectSchemaV1(type=value).type)
    except ValueError:
        raise NotFound("no such object type") from None


async def _schema(inbox: Inbox, principal: Principal, type_name: str) -> dict[str, Any] | None:
    await authorize(inbox, principal, "tentacle.object_type.read", "object_type", type_name)
    found = await ask_workspace(
        inbox, principal, o.OBJECT_SCHEMA_GET, o.GetObjectSchemaV1(type=type_name)
    )
    schema: dict[str, Any] | None = found.json_schema
    return schema


# ---------------------------------------------------------------------- types
async def _types_page(
    request: Request, principal: Principal, status: int = 200, **extra: Any
) -> Response:
    inbox = get_inbox(request)
    await authorize(inbox, principal, "tentacle.object_type.list", "object_type")
    listed = await ask_workspace(inbox, principal, o.OBJECT_TYPE_LIST, o.ListObjectTypesV1())
    return page(
        request,
        "workspace.html",
        status,
        signed_in=True,
        nav="workspace",
        types=[t.model_dump(mode="json") for t in listed.types],
        **extra,
    )


@router.get("/workspace")
async def workspace(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    return await _types_page(request, principal)


@router.post("/workspace/types")
async def define_type(request: Request) -> Response:
    """Define a type (its name and, optionally, its schema), or change a type's schema."""
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    inbox = get_inbox(request)
    data = await form(request)
    try:
        payload = _schema_payload(data.get("type", ""), data.get("json_schema", ""))
        await authorize(
            inbox, principal, "tentacle.object_type.update", "object_type", payload.type
        )
        await ask_workspace(inbox, principal, o.OBJECT_SCHEMA_PUT, payload)
    except InboxError as exc:
        if data.get("from") == "type":  # the schema editor on the type's own page
            type_name = _type_name(data.get("type", ""))
            return await _objects_page(request, principal, type_name, **refusal(exc))
        return await _types_page(request, principal, **refusal(exc))
    return redirect(request, f"/workspace/t/{payload.type}")


def _schema_payload(type_name: str, text: str) -> o.PutObjectSchemaV1:
    try:
        name = o.GetObjectSchemaV1(type=type_name.strip()).type
    except ValueError:
        raise InvalidRequest(
            "a type name is a lowercase word: letters, digits and _, starting with a letter"
        ) from None
    schema = None
    if text.strip():
        try:
            schema = json.loads(text)
        except ValueError:
            raise InvalidRequest("the schema is not valid JSON") from None
        if not isinstance(schema, dict):
            raise InvalidRequest("the schema must be a JSON object")
    return o.PutObjectSchemaV1(type=name, json_schema=schema)


# ---------------------------------------------------------------------- a type's objects
def _columns(schema: dict[str, Any] | None, objects: list[dict[str, Any]]) -> list[str]:
    names = list(properties(schema))
    for obj in objects:
        names += [k for k in obj["data"] if k not in names]
    return names[:MAX_COLUMNS]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


async def _objects_page(
    request: Request, principal: Principal, type_name: str, status: int = 200, **extra: Any
) -> Response:
    inbox = get_inbox(request)
    q = request.query_params
    where_text = q.get("where", "").strip()
    search = q.get("q", "").strip()
    schema = await _schema(inbox, principal, type_name)
    objects: list[dict[str, Any]] = []
    snippets: dict[str, str] = {}
    next_cursor = None
    try:
        if search:
            await authorize(inbox, principal, "tentacle.object.search", "object")
            hits = await ask_workspace(
                inbox,
                principal,
                o.OBJECT_SEARCH,
                o.SearchObjectsV1(query=search[:500], type=type_name, limit=50),
            )
            objects = [h.object.model_dump(mode="json") for h in hits.hits]
            snippets = {h.object.id: h.snippet for h in hits.hits}
        else:
            await authorize(inbox, principal, "tentacle.object.list", "object")
            cursor = q.get("cursor") or None
            query = o.QueryObjectsV1(
                type=type_name,
                where=parse_where(where_text),
                limit=25,
                cursor=cursor[:4096] if cursor else None,
            )
            found = await ask_workspace(inbox, principal, o.OBJECT_QUERY, query)
            objects = [obj.model_dump(mode="json") for obj in found.objects]
            next_cursor = found.next_cursor
    except InboxError as exc:
        status, extra = http_status(exc), {"error": form_error(exc), **extra}
    columns = _columns(schema, objects)
    rows = [
        {"id": obj["id"], "cells": [_cell(obj["data"].get(c)) for c in columns], "obj": obj}
        for obj in objects
    ]
    return page(
        request,
        "workspace_type.html",
        status,
        signed_in=True,
        nav="workspace",
        type_name=type_name,
        schema_text=json.dumps(schema, indent=2) if schema is not None else "",
        columns=columns,
        rows=rows,
        snippets=snippets,
        where=where_text,
        search=search,
        next_cursor=next_cursor,
        **extra,
    )


@router.get("/workspace/t/{type_name}")
async def type_objects(request: Request, type_name: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    return await _objects_page(request, principal, _type_name(type_name))


# ---------------------------------------------------------------------- one object
async def _object_form(
    request: Request,
    principal: Principal,
    type_name: str,
    obj: dict[str, Any] | None,
    status: int = 200,
    answers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    schema = await _schema(get_inbox(request), principal, type_name)
    data = obj["data"] if obj is not None else {}
    fields = fields_of(schema, data)
    if answers is not None:  # show what they typed, not what is stored
        fields = [replace(f, value=answers.get(_form_name(f.name), "")) for f in fields]
    return page(
        request,
        "workspace_object.html",
        status,
        signed_in=True,
        nav="workspace",
        type_name=type_name,
        obj=obj,
        fields=fields,
        tags=", ".join(obj["tags"]) if obj else (answers or {}).get("tags", ""),
        **extra,
    )


def _form_name(name: str) -> str:
    return EXTRA if name == EXTRA else f"f.{name}"


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()][:32]


@router.get("/workspace/t/{type_name}/new")
async def new_object(request: Request, type_name: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    return await _object_form(request, principal, _type_name(type_name), None)


@router.post("/workspace/t/{type_name}/new")
async def create_object(request: Request, type_name: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    type_name = _type_name(type_name)
    inbox = get_inbox(request)
    answers = await form(request)
    try:
        schema = await _schema(inbox, principal, type_name)
        payload = _validated(
            lambda: o.CreateObjectV1(
                type=type_name, data=data_of(schema, answers), tags=_tags(answers.get("tags", ""))
            )
        )
        await authorize(inbox, principal, "tentacle.object.create", "object")
        created = await ask_workspace(inbox, principal, o.OBJECT_CREATE, payload)
    except InboxError as exc:
        return await _object_form(
            request, principal, type_name, None, answers=answers, **refusal(exc)
        )
    return redirect(request, f"/workspace/o/{created.id}?saved=1")


def _validated(build: Any) -> Any:
    try:
        return build()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise InvalidRequest(f"the object is not valid: {str(exc).splitlines()[-1]}") from None


async def _get(inbox: Inbox, principal: Principal, object_id: str) -> dict[str, Any]:
    if not is_token(object_id):
        raise NotFound("no such object")
    await authorize(inbox, principal, "tentacle.object.read", "object", object_id)
    found = await ask_workspace(inbox, principal, o.OBJECT_GET, o.GetObjectV1(id=object_id))
    out: dict[str, Any] = found.model_dump(mode="json")
    return out


@router.get("/workspace/o/{object_id}")
async def object_page(request: Request, object_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    obj = await _get(get_inbox(request), principal, object_id)
    notice = "Saved." if request.query_params.get("saved") else None
    return await _object_form(request, principal, obj["type"], obj, notice=notice)


@router.post("/workspace/o/{object_id}")
async def save_object(request: Request, object_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    inbox = get_inbox(request)
    obj = await _get(inbox, principal, object_id)
    answers = await form(request)
    try:
        schema = await _schema(inbox, principal, obj["type"])
        version = answers.get("version", "")
        payload = _validated(
            lambda: o.UpdateObjectV1(
                id=object_id,
                data=data_of(schema, answers),
                mode=o.UpdateMode.REPLACE,
                tags=_tags(answers.get("tags", "")),
                expected_version=int(version) if version.isdigit() else None,
            )
        )
        await authorize(inbox, principal, "tentacle.object.update", "object", object_id)
        await ask_workspace(inbox, principal, o.OBJECT_UPDATE, payload)
    except InboxError as exc:
        return await _object_form(
            request, principal, obj["type"], obj, answers=answers, **refusal(exc)
        )
    return redirect(request, f"/workspace/o/{object_id}?saved=1")


@router.post("/workspace/o/{object_id}/delete")
async def delete_object(request: Request, object_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    inbox = get_inbox(request)
    obj = await _get(inbox, principal, object_id)
    await authorize(inbox, principal, "tentacle.object.delete", "object", object_id)
    await ask_workspace(inbox, principal, o.OBJECT_DELETE, o.DeleteObjectV1(id=object_id))
    return redirect(request, f"/workspace/t/{obj['type']}")
