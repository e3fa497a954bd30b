"""Read objects: one by id, a filtered page, a ranked full-text search.

Queries run under a short statement timeout (a filter a tenant writes must not hold a
connection for long); the timeout and PostgreSQL's own refusal of a pattern come back as
stable codes, never as a stringified database error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from contracts.envelope import Meta
from contracts.tentacle.objects import (
    GetObjectV1,
    ObjectHitsV1,
    ObjectHitV1,
    ObjectPageV1,
    ObjectV1,
    QueryObjectsV1,
    SearchObjectsV1,
)
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from shared.db.errors import DatabaseTimeout
from tentacle.adapters import object_store
from tentacle.adapters.object_store import CursorInvalid, Order, Page
from tentacle.domain.object_filters import FilterInvalid
from tentacle.domain.object_indexes import indexed_paths
from tentacle.domain.workspace_errors import WorkspaceError, object_not_found
from tentacle.service.deps import Deps, require_org


@asynccontextmanager
async def _bounded(
    deps: Deps, org_id: str, object_type: str | None = None
) -> AsyncIterator[tuple[Any, list[tuple[str, ...]]]]:
    """A bounded transaction, and the fields `object_type` indexes."""
    timeout_ms = deps.settings.workspace_query_timeout_ms
    try:
        async with deps.db.transaction(org_id=org_id) as tx:
            schema = await object_store.limit_statement(tx.conn, timeout_ms, org_id, object_type)
            yield tx.conn, [tuple(p) for p in indexed_paths(schema)]
    except (asyncpg.QueryCanceledError, DatabaseTimeout):  # the pool translates the former
        raise WorkspaceError(
            E.QUERY_TIMEOUT, f"the query ran longer than {timeout_ms} ms; narrow it"
        ) from None
    except asyncpg.InvalidRegularExpressionError:
        raise WorkspaceError(E.REGEX_REJECTED, "the database refused the $regex") from None


async def get_object(deps: Deps, request: GetObjectV1, meta: Meta) -> ObjectV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        row = await object_store.get(tx.conn, org_id, request.id)
    if row is None:
        raise object_not_found(request.id)
    return object_store.to_object(row)


async def find_page(deps: Deps, org_id: str, request: QueryObjectsV1) -> Page:
    try:
        order = Order.parse(request.order_by)
        async with _bounded(deps, org_id, request.type) as (conn, indexed):
            return await object_store.query(
                conn,
                org_id,
                object_type=request.type,
                where=dict(request.where),
                tags_any=list(request.tags_any),
                tags_all=list(request.tags_all),
                order=order,
                limit=request.limit,
                cursor=request.cursor,
                indexed=indexed,
            )
    except FilterInvalid as exc:
        raise WorkspaceError(
            E.REGEX_REJECTED if exc.regex else E.FILTER_INVALID, str(exc)
        ) from None
    except CursorInvalid as exc:
        raise WorkspaceError(E.CURSOR_INVALID, str(exc)) from None


async def query_objects(deps: Deps, request: QueryObjectsV1, meta: Meta) -> ObjectPageV1:
    page = await find_page(deps, require_org(meta), request)
    return ObjectPageV1(
        objects=[object_store.to_object(r) for r in page.rows], next_cursor=page.next_cursor
    )


async def search_objects(deps: Deps, request: SearchObjectsV1, meta: Meta) -> ObjectHitsV1:
    org_id = require_org(meta)
    if "\x00" in request.query:
        raise WorkspaceError(E.FILTER_INVALID, "the search text contains NUL")
    async with _bounded(deps, org_id) as (conn, _):
        rows = await object_store.search(
            conn,
            org_id,
            request.query,
            object_type=request.type,
            tags_any=list(request.tags_any),
            limit=request.limit,
        )
    return ObjectHitsV1(
        hits=[
            ObjectHitV1(
                object=object_store.to_object(r),
                rank=float(r["rank"]),
                snippet=object_store.highlighted(r["snippet"] or ""),
            )
            for r in rows
        ]
    )
