"""Learned approval preferences, per organisation, person and kind of operation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Actor
from tentacle.domain.preferences import Preference

_GET: Final = text(
    """
    SELECT key, approvals, score, remembered, last_approved_at, revoked_at
      FROM approval_preferences
     WHERE actor_kind = :kind AND actor_id = :id AND (CAST(:all AS bool) OR key = ANY(:keys))
     ORDER BY key
    """
)
_PUT: Final = text(
    """
    INSERT INTO approval_preferences (org_id, actor_kind, actor_id, key, approvals, score,
                                      remembered, last_approved_at, revoked_at)
    VALUES (:org_id, :kind, :id, :key, :approvals, :score, :remembered, :last, :revoked)
    ON CONFLICT (org_id, actor_kind, actor_id, key) DO UPDATE
       SET approvals = excluded.approvals, score = excluded.score,
           remembered = excluded.remembered, last_approved_at = excluded.last_approved_at,
           revoked_at = excluded.revoked_at, updated_at = now()
    """
)


async def load(
    session: AsyncSession, actor: Actor, keys: Iterable[str] | None
) -> dict[str, Preference]:
    wanted = list(keys) if keys is not None else []
    if keys is not None and not wanted:
        return {}
    rows = await session.execute(
        _GET,
        {"kind": actor.kind.value, "id": actor.id, "all": keys is None, "keys": wanted},
    )
    return {
        r.key: Preference(r.approvals, r.score, r.remembered, r.last_approved_at, r.revoked_at)
        for r in rows
    }


async def save(
    session: AsyncSession, org_id: str, actor: Actor, key: str, pref: Preference
) -> None:
    await session.execute(
        _PUT,
        {
            "org_id": org_id,
            "kind": actor.kind.value,
            "id": actor.id,
            "key": key,
            "approvals": pref.approvals,
            "score": pref.score,
            "remembered": pref.remembered,
            "last": pref.last_approved_at,
            "revoked": pref.revoked_at,
        },
    )
