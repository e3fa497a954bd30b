"""Memberships: who belongs to an organisation, with which role and trusted attributes.

Tenant rows: every query runs in the organisation's scope, except `of_user`, which reads the
person's own rows across organisations and needs `scope.act_as` first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.types import Role
from inkpass.adapters.tables import memberships, orgs, users


@dataclass(frozen=True)
class Membership:
    org_id: str
    user_id: str
    role: Role
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberView:
    membership: Membership
    email: str
    display_name: str | None


@dataclass(frozen=True)
class OrgRole:
    org_id: str
    name: str
    role: Role


def _membership(row: Any) -> Membership:
    return Membership(row.org_id, row.user_id, Role(row.role), dict(row.attributes))


async def add(session: AsyncSession, *, org_id: str, user_id: str, role: Role) -> None:
    await session.execute(
        insert(memberships).values(org_id=org_id, user_id=user_id, role=role.value)
    )


async def get(
    session: AsyncSession, org_id: str, user_id: str, *, lock: bool = False
) -> Membership | None:
    query = select(memberships).where(
        memberships.c.org_id == org_id, memberships.c.user_id == user_id
    )
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return _membership(row) if row is not None else None


async def of_user(session: AsyncSession, user_id: str) -> list[OrgRole]:
    rows = await session.execute(
        select(memberships.c.org_id, orgs.c.name, memberships.c.role)
        .join(orgs, orgs.c.id == memberships.c.org_id)
        .where(memberships.c.user_id == user_id)
        .order_by(memberships.c.created_at)
    )
    return [OrgRole(r.org_id, r.name, Role(r.role)) for r in rows]


async def in_org(session: AsyncSession, org_id: str) -> list[MemberView]:
    rows = await session.execute(
        select(memberships, users.c.email, users.c.display_name)
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.org_id == org_id)
        .order_by(memberships.c.created_at)
    )
    return [MemberView(_membership(r), r.email, r.display_name) for r in rows]


async def owners(session: AsyncSession, org_id: str) -> int:
    result = await session.execute(
        select(func.count()).where(
            memberships.c.org_id == org_id, memberships.c.role == Role.OWNER.value
        )
    )
    return int(result.scalar_one())


async def change(session: AsyncSession, org_id: str, user_id: str, **values: Any) -> None:
    await session.execute(
        update(memberships)
        .where(memberships.c.org_id == org_id, memberships.c.user_id == user_id)
        .values(updated_at=func.now(), **values)
    )


async def remove(session: AsyncSession, org_id: str, user_id: str) -> None:
    await session.execute(
        delete(memberships).where(memberships.c.org_id == org_id, memberships.c.user_id == user_id)
    )
