"""Organisations (the platform's tenant registry) and their authorization epoch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inkpass.adapters.tables import orgs


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    authz_epoch: int


async def create(session: AsyncSession, *, org_id: str, name: str, created_by: str) -> None:
    await session.execute(insert(orgs).values(id=org_id, name=name, created_by=created_by))


async def get(session: AsyncSession, org_id: str, *, lock: bool = False) -> Org | None:
    query = select(orgs.c.id, orgs.c.name, orgs.c.authz_epoch).where(orgs.c.id == org_id)
    if lock:
        # Serialises role changes of one org, so two demotions cannot both see another owner.
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return Org(row.id, row.name, row.authz_epoch) if row is not None else None


async def bump_epoch(session: AsyncSession, org_id: str) -> int:
    result = await session.execute(
        update(orgs)
        .where(orgs.c.id == org_id)
        .values(authz_epoch=orgs.c.authz_epoch + 1)
        .returning(orgs.c.authz_epoch)
    )
    return int(result.scalar_one())
