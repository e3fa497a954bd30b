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


@dataclass(frozen=True)
class OrgSettings:
    id: str
    name: str
    timezone: str
    version: int


_SETTINGS = (orgs.c.id, orgs.c.name, orgs.c.timezone, orgs.c.settings_version)


async def settings(session: AsyncSession, org_id: str) -> OrgSettings | None:
    row = (await session.execute(select(*_SETTINGS).where(orgs.c.id == org_id))).first()
    return OrgSettings(*row) if row is not None else None


async def change_settings(
    session: AsyncSession, org_id: str, *, name: str | None, timezone: str | None
) -> OrgSettings:
    """Apply the given fields and bump the version (one statement: concurrent changes queue)."""
    values: dict[str, object] = {"settings_version": orgs.c.settings_version + 1}
    if name is not None:
        values["name"] = name
    if timezone is not None:
        values["timezone"] = timezone
    row = (
        await session.execute(
            update(orgs).where(orgs.c.id == org_id).values(**values).returning(*_SETTINGS)
        )
    ).one()
    return OrgSettings(*row)
