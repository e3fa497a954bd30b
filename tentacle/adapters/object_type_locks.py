"""Locks that keep a type's schema and its objects in agreement.

Setting a schema checks every existing object of the type against it; an object written
meanwhile under the old schema would escape that check. So writers of objects hold their
types' locks shared for their transaction, and a schema change holds its type's lock
exclusively while it checks and saves (transaction-level advisory locks: nothing to release,
and writers of different types, or of the same type, never wait for each other).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from shared.db.locks import advisory_key
from tentacle.adapters.pg import Conn

_SHARE: Final = "SELECT pg_advisory_xact_lock_shared(k) FROM unnest($1::bigint[]) AS k"
_OWN: Final = "SELECT pg_advisory_xact_lock($1)"


def _key(org_id: str, object_type: str) -> int:
    return advisory_key(f"workspace-schema:{org_id}:{object_type}")


async def share(conn: Conn, org_id: str, types: Iterable[str]) -> None:
    """Before reading the schemas to validate documents of `types` against."""
    await conn.execute(_SHARE, sorted({_key(org_id, t) for t in types}))


async def own(conn: Conn, org_id: str, object_type: str) -> None:
    """Before checking the type's objects against a new schema."""
    await conn.execute(_OWN, _key(org_id, object_type))
