"""Workspace objects in PostgreSQL: rows in and out, filtered pages, ranked full-text search.

Every function runs on a connection already scoped to one organisation (row-level security);
queries also name the org explicitly, which lets the planner use the (org_id, ...) indexes.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from contracts.envelope import Actor, ActorKind
from contracts.tentacle.objects import ObjectV1
from tentacle.adapters.pg import Conn
from tentacle.domain.object_filters import Params, compile_where, parse_path, sort_key

_COLUMNS: Final = (
    "org_id, id, type, data, tags, version, created_by, updated_by, created_at, updated_at"
)

_INSERT: Final = f"""
    INSERT INTO workspace_objects (org_id, id, type, data, dates, tags, version, created_by,
                                   updated_by)
    SELECT $1, u.id, u.type, u.data, u.dates,
           ARRAY(SELECT jsonb_array_elements_text(u.tags::jsonb)), 1, $6, $6
      FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $7::text[])
           AS u(id, type, data, dates, tags)
    ON CONFLICT (org_id, id) DO NOTHING
    RETURNING {_COLUMNS}
"""  # noqa: S608 - constant column list, bound values
_GET: Final = f"SELECT {_COLUMNS} FROM workspace_objects WHERE org_id = $1 AND id = $2"  # noqa: S608
_GET_FOR_UPDATE: Final = _GET + " FOR UPDATE"
_UPDATE: Final = f"""
    UPDATE workspace_objects
       SET data = $3, dates = $4, tags = $5, version = version + 1, updated_by = $6,
           updated_at = now()
     WHERE org_id = $1 AND id = $2
    RETURNING {_COLUMNS}
"""  # noqa: S608 - constant column list, bound values
_DELETE: Final = f"DELETE FROM workspace_objects WHERE org_id = $1 AND id = $2 RETURNING {_COLUMNS}"  # noqa: S608
_SCHEMA: Final = "SELECT json_schema FROM workspace_object_types WHERE org_id = $1 AND type = $2"
_SCHEMAS: Final = """
    SELECT type, json_schema FROM workspace_object_types WHERE org_id = $1 AND type = ANY($2)
"""
_ALL_SCHEMAS: Final = "SELECT type, json_schema FROM workspace_object_types WHERE org_id = $1"
_OF_TYPE: Final = """
    SELECT id, data FROM workspace_objects WHERE org_id = $1 AND type = $2
     ORDER BY created_at, id
"""
_PUT_SCHEMA: Final = """
    INSERT INTO workspace_object_types (org_id, type, json_schema) VALUES ($1, $2, $3)
    ON CONFLICT (org_id, type) DO UPDATE SET json_schema = excluded.json_schema, updated_at = now()
"""
_DROP_SCHEMA: Final = "DELETE FROM workspace_object_types WHERE org_id = $1 AND type = $2"
_LIMITS: Final = """
    SELECT set_config('statement_timeout', $1, true),
           set_config('plan_cache_mode', 'force_custom_plan', true),
           (SELECT json_schema FROM workspace_object_types WHERE org_id = $2 AND type = $3)
"""

MAX_REPLY_BYTES: Final = 768 * 1024
"""A page stops early (with a cursor) before its objects outgrow one bus message."""


@lru_cache(maxsize=1024)
def _actor(kind: str, ident: str) -> Actor:
    return Actor(kind=ActorKind(kind), id=ident)


def to_object(row: Any) -> ObjectV1:
    """A row as a contract object, without validating it again: every row was validated on
    its way in (the documents by their limits and schemas), and a page holds up to 500."""
    return ObjectV1.model_construct(
        id=row["id"],
        org_id=row["org_id"],
        type=row["type"],
        data=row["data"],
        tags=list(row["tags"]),
        version=row["version"],
        created_by=_actor(row["created_by"]["kind"], row["created_by"]["id"]),
        updated_by=_actor(row["updated_by"]["kind"], row["updated_by"]["id"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@dataclass(frozen=True, slots=True)
class NewRow:
    id: str
    type: str
    data: dict[str, Any]
    dates: dict[str, Any]
    tags: list[str]


async def insert(conn: Conn, org_id: str, actor: Actor, rows: Sequence[NewRow]) -> list[Any]:
    """Insert `rows`; those whose id exists already are left out of the result."""
    return list(
        await conn.fetch(
            _INSERT,
            org_id,
            [r.id for r in rows],
            [r.type for r in rows],
            [r.data for r in rows],
            [r.dates for r in rows],
            actor.model_dump(mode="json"),
            # As JSON text: asyncpg would read a list of lists as a two-dimensional array.
            [json.dumps(r.tags) for r in rows],
        )
    )


async def get(conn: Conn, org_id: str, object_id: str, *, for_update: bool = False) -> Any:
    return await conn.fetchrow(_GET_FOR_UPDATE if for_update else _GET, org_id, object_id)


async def update(
    conn: Conn,
    org_id: str,
    object_id: str,
    data: dict[str, Any],
    dates: dict[str, Any],
    tags: list[str],
    actor: Actor,
) -> Any:
    return await conn.fetchrow(
        _UPDATE, org_id, object_id, data, dates, tags, actor.model_dump(mode="json")
    )


async def delete(conn: Conn, org_id: str, object_id: str) -> Any:
    return await conn.fetchrow(_DELETE, org_id, object_id)


async def schema_of(conn: Conn, org_id: str, object_type: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = await conn.fetchval(_SCHEMA, org_id, object_type)
    return found


async def schemas_of(conn: Conn, org_id: str, types: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = await conn.fetch(_SCHEMAS, org_id, list(types))
    return {r["type"]: r["json_schema"] for r in rows}


async def schemas_in_org(conn: Conn, org_id: str) -> dict[str, dict[str, Any]]:
    rows = await conn.fetch(_ALL_SCHEMAS, org_id)
    return {r["type"]: r["json_schema"] for r in rows}


async def documents_of_type(
    conn: Conn, org_id: str, object_type: str, *, batch: int = 500
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Every object of the type as (id, data), read in batches (inside a transaction)."""
    async for row in conn.cursor(_OF_TYPE, org_id, object_type, prefetch=batch):
        yield row["id"], row["data"]


async def put_schema(
    conn: Conn, org_id: str, object_type: str, schema: dict[str, Any] | None
) -> None:
    if schema is None:
        await conn.execute(_DROP_SCHEMA, org_id, object_type)
    else:
        await conn.execute(_PUT_SCHEMA, org_id, object_type, schema)


async def limit_statement(
    conn: Conn, timeout_ms: int, org_id: str | None = None, object_type: str | None = None
) -> dict[str, Any] | None:
    """Bound this transaction's statements, and plan them for their actual values (a filter's
    selectivity depends on them; the pool's default is generic plans). Returns the schema of
    `object_type` if it has one, read in the same round trip."""
    row = await conn.fetchrow(_LIMITS, str(timeout_ms), org_id, object_type)
    schema: dict[str, Any] | None = row[2]
    return schema


# ---------------------------------------------------------------------- pages
class CursorInvalid(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Order:
    """`created_at`, `updated_at` or `data.<path>`, ascending or descending."""

    key: str
    descending: bool
    path: list[str] | None

    @classmethod
    def parse(cls, order_by: str) -> Order:
        descending = order_by.startswith("-")
        key = order_by.lstrip("-")
        path = parse_path(key[5:]) if key.startswith("data.") else None
        return cls(key, descending, path)


def encode_cursor(order: Order, sort_key: Any, object_id: str) -> str:
    if isinstance(sort_key, datetime):
        sort_key = sort_key.isoformat()
    raw = json.dumps({"o": order.key, "d": order.descending, "k": sort_key, "i": object_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(order: Order, cursor: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if value["o"] != order.key or value["d"] != order.descending:
            raise CursorInvalid("the cursor belongs to another ordering")
        key, object_id = value["k"], value["i"]
        if not isinstance(object_id, str):
            raise CursorInvalid("not a cursor of this query")
        if order.path is None:
            key = datetime.fromisoformat(key)
    except CursorInvalid:
        raise
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise CursorInvalid("not a cursor of this query") from exc
    return key, object_id


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


def build_query(
    org_id: str,
    *,
    object_type: str | None,
    where: dict[str, Any],
    tags_any: list[str],
    tags_all: list[str],
    order: Order,
    limit: int,
    cursor: str | None,
    indexed: Collection[tuple[str, ...]] = (),
) -> tuple[str, list[Any]]:
    """The statement of one page (and one row more, to know whether another page follows);
    `indexed`: the field paths `object_type` indexes."""
    params = Params()
    conditions = [f"org_id = {params.add(org_id, 'text')}"]
    if object_type is not None:
        conditions.append(f"type = {params.add(object_type, 'text')}")
    if tags_any:
        conditions.append(f"tags && {params.add(tags_any, 'text[]')}")
    if tags_all:
        conditions.append(f"tags @> {params.add(tags_all, 'text[]')}")
    if where:
        conditions.append(compile_where(where, params, indexed))
    sort = order.key if order.path is None else sort_key(params.add(order.path, "text[]"))
    if cursor is not None:
        key, after_id = decode_cursor(order, cursor)
        cast = "timestamptz" if order.path is None else "jsonb"
        k = params.add(key, cast)
        i = params.add(after_id, "text")
        conditions.append(f"({sort}, id) {'<' if order.descending else '>'} ({k}, {i})")
    direction = "DESC" if order.descending else "ASC"
    n = params.add(limit + 1, "int")
    sql = (
        # Only fixed fragments and placeholders: every value and path is a bound parameter.
        f"SELECT {_COLUMNS}, {sort} AS sort_key FROM workspace_objects"  # noqa: S608
        f" WHERE {' AND '.join(conditions)}"
        f" ORDER BY {sort} {direction}, id {direction} LIMIT {n}"
    )
    return sql, params.values


async def query(
    conn: Conn,
    org_id: str,
    *,
    object_type: str | None,
    where: dict[str, Any],
    tags_any: list[str],
    tags_all: list[str],
    order: Order,
    limit: int,
    cursor: str | None,
    indexed: Collection[tuple[str, ...]] = (),
) -> Page:
    sql, values = build_query(
        org_id,
        object_type=object_type,
        where=where,
        tags_any=tags_any,
        tags_all=tags_all,
        order=order,
        limit=limit,
        cursor=cursor,
        indexed=indexed,
    )
    rows = list(await conn.fetch(sql, *values))
    more = len(rows) > limit
    rows = rows[:limit]
    kept: list[Any] = []
    size = 0
    for row in rows:
        size += len(json.dumps(row["data"], separators=(",", ":"))) + 400
        if kept and size > MAX_REPLY_BYTES:
            more = True
            break
        kept.append(row)
    next_cursor = None
    if more and kept:
        last = kept[-1]
        next_cursor = encode_cursor(order, last["sort_key"], last["id"])
    return Page(kept, next_cursor)


# ---------------------------------------------------------------------- search
_OPEN, _CLOSE = "\x02", "\x03"
_SEARCH: Final = f"""
    WITH q AS (SELECT websearch_to_tsquery('english', $2) AS query),
    top AS (
        SELECT o.*, ts_rank_cd(o.search, q.query) AS rank
          FROM workspace_objects o, q
         WHERE o.org_id = $1 AND o.search @@ q.query
           AND ($3::text IS NULL OR o.type = $3)
           AND (cardinality($4::text[]) = 0 OR o.tags && $4)
         ORDER BY rank DESC, o.id
         LIMIT $5
    )
    SELECT {", ".join("top." + c.strip() for c in _COLUMNS.split(","))}, top.rank,
           ts_headline('english',
                       coalesce((SELECT string_agg(v #>> '{{}}', ' … ')
                                   FROM jsonb_path_query(top.data,
                                        'strict $.** ? (@.type() == "string")') AS v), ''),
                       q.query,
                       'StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=24, MinWords=8,
                        MaxFragments=2, FragmentDelimiter=" … "') AS snippet
      FROM top, q
     ORDER BY top.rank DESC, top.id
"""  # noqa: S608 - constant columns and markers, bound values


async def search(
    conn: Conn,
    org_id: str,
    text: str,
    *,
    object_type: str | None,
    tags_any: list[str],
    limit: int,
) -> list[Any]:
    return list(await conn.fetch(_SEARCH, org_id, text, object_type, tags_any, limit))


def highlighted(snippet: str) -> str:
    """The snippet as safe HTML: the document's text escaped, the matches in <b>...</b>."""
    return html.escape(snippet).replace(_OPEN, "<b>").replace(_CLOSE, "</b>")
