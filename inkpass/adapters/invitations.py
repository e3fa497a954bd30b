"""Invitations into an organisation (tenant rows); the token is stored only as a hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.types import Role
from inkpass.adapters.tables import invitations


@dataclass(frozen=True)
class Invitation:
    id: str
    org_id: str
    email: str
    role: Role
    token_hash: bytes
    expires_at: datetime
    accepted_at: datetime | None


async def create(
    session: AsyncSession,
    *,
    invitation_id: str,
    org_id: str,
    email: str,
    role: Role,
    token_hash: bytes,
    invited_by: str,
    expires_at: datetime,
) -> None:
    await session.execute(
        insert(invitations).values(
            id=invitation_id,
            org_id=org_id,
            email=email,
            role=role.value,
            token_hash=token_hash,
            invited_by=invited_by,
            expires_at=expires_at,
        )
    )


async def get_for_update(session: AsyncSession, invitation_id: str) -> Invitation | None:
    row = (
        await session.execute(
            select(invitations).where(invitations.c.id == invitation_id).with_for_update()
        )
    ).first()
    if row is None:
        return None
    return Invitation(
        row.id,
        row.org_id,
        row.email,
        Role(row.role),
        bytes(row.token_hash),
        row.expires_at,
        row.accepted_at,
    )


async def accept(session: AsyncSession, invitation_id: str, user_id: str) -> None:
    await session.execute(
        update(invitations)
        .where(invitations.c.id == invitation_id)
        .values(accepted_at=func.now(), accepted_by=user_id)
    )
