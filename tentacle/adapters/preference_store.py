"""Learned approval preferences, per organisation, person and kind of operation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from contracts.envelope import Actor
from tentacle.adapters.pg import Conn
from tentacle.domain.preferences import Preference

_GET: Final = """
    SELECT key, approvals, score, remembered, last_approved_at, revoked_at
      FROM approval_preferences
     WHERE actor_kind = $1 AND actor_id = $2 AND ($3 OR key = ANY($4::text[]))
     ORDER BY key
"""
_PUT: Final = """
    INSERT INTO approval_preferences (org_id, actor_kind, actor_id, key, approvals, score,
                                      remembered, last_approved_at, revoked_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (org_id, actor_kind, actor_id, key) DO UPDATE
       SET approvals = excluded.approvals, score = excluded.score,
           remembered = excluded.remembered, last_approved_at = excluded.last_approved_at,
           revoked_at = excluded.revoked_at, updated_at = now()
"""


async def load(conn: Conn, actor: Actor, keys: Iterable[str] | None) -> dict[str, Preference]:
    wanted = list(keys) if keys is not None else []
    if keys is not None and not wanted:
        return {}
    rows = await conn.fetch(_GET, actor.kind.value, actor.id, keys is None, wanted)
    return {
        r["key"]: Preference(
            r["approvals"], r["score"], r["remembered"], r["last_approved_at"], r["revoked_at"]
        )
        for r in rows
    }


async def save(conn: Conn, org_id: str, actor: Actor, key: str, pref: Preference) -> None:
    await conn.execute(
        _PUT,
        org_id,
        actor.kind.value,
        actor.id,
        key,
        pref.approvals,
        pref.score,
        pref.remembered,
        pref.last_approved_at,
        pref.revoked_at,
    )
