"""Organisation memory in PostgreSQL: current versions in `memories`, every version in
`memory_versions`, full text over title, topic and body, vectors with pgvector.

Visibility: a memory with no readers is the whole organisation's; otherwise only its readers
and the one who first stored it see it. Every read applies that in SQL (`_VISIBLE`), so a
memory one may not read is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from contracts.envelope import Actor
from contracts.tentacle.memory import MemoryV1
from tentacle.adapters.pg import Conn

_COLUMNS: Final = (
    "org_id, key, title, body, topic, tags, source, tier, readers, owner, task_id, version,"
    " created_by, updated_by, created_at, updated_at"
)
# $1 org, $2 the reader's principal
_VISIBLE: Final = "org_id = $1 AND (cardinality(readers) = 0 OR $2 = ANY(readers) OR owner = $2)"

_GET: Final = f"SELECT {_COLUMNS} FROM memories WHERE org_id = $1 AND key = $2"  # noqa: S608
_GET_FOR_UPDATE: Final = _GET + " FOR UPDATE"
_UPSERT: Final = f"""
    INSERT INTO memories (org_id, key, title, body, topic, tags, source, tier, readers, owner,
                          task_id, version, created_by, updated_by, embedding, embedding_model)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14::text::vector, $15)
    ON CONFLICT (org_id, key) DO UPDATE
       SET title = excluded.title, body = excluded.body, topic = excluded.topic,
           tags = excluded.tags, source = excluded.source, tier = excluded.tier,
           readers = excluded.readers, task_id = excluded.task_id, version = excluded.version,
           updated_by = excluded.updated_by, updated_at = now(),
           embedding = excluded.embedding, embedding_model = excluded.embedding_model
    RETURNING {_COLUMNS}
"""  # noqa: S608 - constant column list, bound values
_SNAPSHOT: Final = """
    INSERT INTO memory_versions (org_id, key, version, title, body, topic, tags, source, tier,
                                 readers, owner, task_id, created_by, updated_by, created_at,
                                 updated_at)
    SELECT org_id, key, version, title, body, topic, tags, source, tier, readers, owner, task_id,
           created_by, updated_by, created_at, updated_at
      FROM memories WHERE org_id = $1 AND key = $2
"""
_LAST_VERSION: Final = """
    SELECT max(version) FROM memory_versions WHERE org_id = $1 AND key = $2
"""
_HISTORY: Final = f"""
    SELECT {_COLUMNS} FROM memory_versions
     WHERE org_id = $1 AND key = $3
       AND (cardinality(readers) = 0 OR $2 = ANY(readers) OR owner = $2)
     ORDER BY version
"""  # noqa: S608 - constant column list, bound values
_DELETE: Final = f"DELETE FROM memories WHERE org_id = $1 AND key = $2 RETURNING {_COLUMNS}"  # noqa: S608

_FILTERS: Final = """
       AND ($3::text IS NULL OR tier = $3)
       AND ($4::text IS NULL OR topic = $4)
       AND (cardinality($5::text[]) = 0 OR tags && $5)
"""
_BY_KEY: Final = f"SELECT {_COLUMNS} FROM memories WHERE {_VISIBLE} {_FILTERS} AND key = $6"  # noqa: S608
_BY_TEXT: Final = f"""
    SELECT key FROM memories, websearch_to_tsquery('english', $6) q
     WHERE {_VISIBLE} {_FILTERS} AND search @@ q
     ORDER BY ts_rank_cd(search, q) DESC, key
     LIMIT $7
"""  # noqa: S608 - constant fragments, bound values
_BY_MEANING: Final = f"""
    SELECT key FROM memories
     WHERE {_VISIBLE} {_FILTERS}
       AND embedding_model = $7 AND vector_dims(embedding) = vector_dims($6::text::vector)
     ORDER BY embedding <=> $6::text::vector, key
     LIMIT $8
"""  # noqa: S608 - constant fragments, bound values
_BY_FILTERS: Final = f"""
    SELECT key FROM memories WHERE {_VISIBLE} {_FILTERS}
     ORDER BY updated_at DESC, key LIMIT $6
"""  # noqa: S608 - constant fragments, bound values
_MANY: Final = f"SELECT {_COLUMNS} FROM memories WHERE {_VISIBLE} AND key = ANY($3)"  # noqa: S608
_CORE: Final = f"""
    SELECT {_COLUMNS} FROM memories WHERE {_VISIBLE} AND tier = 'core' ORDER BY key LIMIT $3
"""  # noqa: S608 - constant fragments, bound values


def principal(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}"


def _actor(value: str) -> Actor:
    kind, _, ident = value.partition(":")
    return Actor.model_validate({"kind": kind, "id": ident})


def to_memory(row: Any) -> MemoryV1:
    return MemoryV1(
        org_id=row["org_id"],
        key=row["key"],
        title=row["title"],
        body=row["body"],
        topic=row["topic"],
        tags=list(row["tags"]),
        source=row["source"],
        tier=row["tier"],
        readers=[_actor(r) for r in row["readers"]],
        task_id=row["task_id"],
        version=row["version"],
        created_by=Actor.model_validate(row["created_by"]),
        updated_by=Actor.model_validate(row["updated_by"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def visible(row: Any, who: str) -> bool:
    return not row["readers"] or who in row["readers"] or row["owner"] == who


def vector_text(vector: Sequence[float] | None) -> str | None:
    """pgvector's text form (asyncpg has no codec for the type)."""
    if vector is None:
        return None
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


async def get(conn: Conn, org_id: str, key: str, *, for_update: bool = False) -> Any:
    return await conn.fetchrow(_GET_FOR_UPDATE if for_update else _GET, org_id, key)


async def last_version(conn: Conn, org_id: str, key: str) -> int:
    found = await conn.fetchval(_LAST_VERSION, org_id, key)
    return int(found or 0)


async def upsert(
    conn: Conn,
    org_id: str,
    values: dict[str, Any],
    actor: Actor,
    vector: Sequence[float] | None,
    model: str | None,
) -> Any:
    row = await conn.fetchrow(
        _UPSERT,
        org_id,
        values["key"],
        values["title"],
        values["body"],
        values["topic"],
        values["tags"],
        values["source"],
        values["tier"],
        values["readers"],
        values["owner"],
        values["task_id"],
        values["version"],
        actor.model_dump(mode="json"),
        vector_text(vector),
        model if vector is not None else None,
    )
    await conn.execute(_SNAPSHOT, org_id, values["key"])
    return row


async def delete(conn: Conn, org_id: str, key: str) -> Any:
    return await conn.fetchrow(_DELETE, org_id, key)


async def history(conn: Conn, org_id: str, who: str, key: str) -> list[Any]:
    return list(await conn.fetch(_HISTORY, org_id, who, key))


async def search_lists(
    conn: Conn,
    org_id: str,
    who: str,
    *,
    tier: str | None,
    topic: str | None,
    tags: list[str],
    key: str | None,
    text: str | None,
    vector: Sequence[float] | None,
    model: str | None,
    depth: int,
) -> list[tuple[str, list[str]]]:
    """Ranked lists of keys, each named by how it matched."""
    base = (org_id, who, tier, topic, tags)
    lists: list[tuple[str, list[str]]] = []
    if key is not None:
        row = await conn.fetchrow(_BY_KEY, *base, key)
        lists.append(("key", [row["key"]] if row is not None else []))
    if text is not None:
        rows = await conn.fetch(_BY_TEXT, *base, text, depth)
        lists.append(("text", [r["key"] for r in rows]))
        if vector is not None:
            rows = await conn.fetch(_BY_MEANING, *base, vector_text(vector), model, depth)
            lists.append(("semantic", [r["key"] for r in rows]))
    if key is None and text is None:
        rows = await conn.fetch(_BY_FILTERS, *base, depth)
        how = "topic" if topic is not None else "tags" if tags else "tier"
        lists.append((how, [r["key"] for r in rows]))
    return lists


async def many(conn: Conn, org_id: str, who: str, keys: list[str]) -> dict[str, Any]:
    rows = await conn.fetch(_MANY, org_id, who, keys)
    return {r["key"]: r for r in rows}


async def core(conn: Conn, org_id: str, who: str, limit: int) -> list[Any]:
    return list(await conn.fetch(_CORE, org_id, who, limit))
