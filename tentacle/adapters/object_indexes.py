"""The expression indexes of a type's indexed fields, brought in line with its schema.

Built with CREATE INDEX CONCURRENTLY, so writes to the table go on while an index is built,
and outside any transaction (PostgreSQL's rule for CONCURRENTLY). The schema in
`workspace_object_types` is the record of what should exist; `reconcile` makes the indexes
match it: it builds what is missing, rebuilds what an interrupted build left invalid, and
drops what the schema no longer asks for. One reconcile per type runs at a time (a session
advisory lock), and it reads the schema after taking the lock, so the last one to run follows
the latest schema.
"""

from __future__ import annotations

from typing import Any, Final

from shared.db.locks import advisory_key
from shared.logging import get_logger
from tentacle.adapters import object_store
from tentacle.adapters.pg import TaskDb
from tentacle.domain.object_indexes import (
    create_index_sql,
    drop_index_sql,
    index_name,
    indexed_paths,
    type_prefix,
)

log = get_logger(__name__)

BUILD_TIMEOUT: Final = "600s"
"""A build waits for transactions already running and reads the whole table: longer than the
pool's statement timeout allows."""

_EXISTING: Final = """
    SELECT c.relname::text AS name, i.indisvalid AS valid
      FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
     WHERE i.indrelid = 'workspace_objects'::regclass AND starts_with(c.relname::text, $1)
"""


async def existing(conn: Any, org_id: str, object_type: str) -> dict[str, bool]:
    """The indexes of one organisation's type: name -> valid (usable by queries)."""
    rows = await conn.fetch(_EXISTING, type_prefix(org_id, object_type))
    return {r["name"]: r["valid"] for r in rows}


async def reconcile(db: TaskDb, org_id: str, object_type: str) -> None:
    key = advisory_key(f"workspace-index:{org_id}:{object_type}")
    async with db.statement(org_id=org_id) as tx:
        conn = tx.conn
        await conn.execute("SELECT pg_advisory_lock($1)", key)
        try:
            await conn.execute(f"SET statement_timeout = '{BUILD_TIMEOUT}'")
            schema = await object_store.schema_of(conn, org_id, object_type)
            wanted = {index_name(org_id, object_type, p): p for p in indexed_paths(schema)}
            have = await existing(conn, org_id, object_type)
            for name, valid in have.items():
                if name not in wanted or not valid:
                    await conn.execute(drop_index_sql(name))
            for name, path in wanted.items():
                if not have.get(name, False):
                    await conn.execute(create_index_sql(org_id, object_type, path))
                    log.info("workspace.index_built", type=object_type, index=name)
        finally:
            if not conn.is_closed():
                await conn.execute("RESET statement_timeout")
                await conn.execute("SELECT pg_advisory_unlock($1)", key)
