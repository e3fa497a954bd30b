"""API keys (tenant rows), stored as SHA-256 of the key only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inkpass.adapters.tables import api_keys


@dataclass(frozen=True)
class ApiKey:
    id: str
    org_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def _key(row: Any) -> ApiKey:
    return ApiKey(
        row.id,
        row.org_id,
        row.name,
        row.prefix,
        tuple(row.scopes),
        row.created_by,
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
    )


async def create(
    session: AsyncSession,
    *,
    key_id: str,
    org_id: str,
    name: str,
    prefix: str,
    key_hash: bytes,
    scopes: list[str],
    created_by: str,
    expires_at: datetime | None,
) -> ApiKey:
    row = (
        await session.execute(
            insert(api_keys)
            .values(
                id=key_id,
                org_id=org_id,
                name=name,
                prefix=prefix,
                key_hash=key_hash,
                scopes=scopes,
                created_by=created_by,
                expires_at=expires_at,
            )
            .returning(*api_keys.c)
        )
    ).one()
    return _key(row)


async def by_hash(session: AsyncSession, key_hash: bytes) -> ApiKey | None:
    row = (await session.execute(select(api_keys).where(api_keys.c.key_hash == key_hash))).first()
    return _key(row) if row is not None else None


async def by_id(session: AsyncSession, key_id: str) -> ApiKey | None:
    row = (await session.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
    return _key(row) if row is not None else None


async def in_org(session: AsyncSession, org_id: str) -> list[ApiKey]:
    rows = await session.execute(
        select(api_keys).where(api_keys.c.org_id == org_id).order_by(api_keys.c.created_at)
    )
    return [_key(r) for r in rows]


async def revoke(session: AsyncSession, key_id: str) -> ApiKey | None:
    row = (
        await session.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(revoked_at=func.coalesce(api_keys.c.revoked_at, func.now()))
            .returning(*api_keys.c)
        )
    ).first()
    return _key(row) if row is not None else None


async def touch(session: AsyncSession, used: dict[str, datetime]) -> None:
    """Record last use of several keys (of the current org scope) at once."""
    for key_id, when in used.items():
        await session.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(last_used_at=func.greatest(func.coalesce(api_keys.c.last_used_at, when), when))
        )
