"""People: platform-scoped rows, looked up by id (from a verified token) or by email."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from inkpass.adapters.tables import users


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    DELETED = "deleted"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    email_verified: bool
    password_hash: str | None
    display_name: str | None
    status: UserStatus
    security_stamp: str
    default_org_id: str | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.status is UserStatus.ACTIVE


def new_stamp() -> str:
    return secrets.token_urlsafe(16)


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        email_verified=row.email_verified_at is not None,
        password_hash=row.password_hash,
        display_name=row.display_name,
        status=UserStatus(row.status),
        security_stamp=row.security_stamp,
        default_org_id=row.default_org_id,
        created_at=row.created_at,
    )


Lock = Literal["share", "update"] | None


async def _one(session: AsyncSession, where: Any, lock: Lock) -> User | None:
    query = select(users).where(where)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock == "update":
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return _user(row) if row is not None else None


async def by_id(session: AsyncSession, user_id: str, *, lock: Lock = None) -> User | None:
    return await _one(session, users.c.id == user_id, lock)


async def by_email(session: AsyncSession, email: str, *, lock: Lock = None) -> User | None:
    return await _one(session, users.c.email == email, lock)


async def insert(
    session: AsyncSession,
    *,
    user_id: str,
    email: str,
    password_hash: str | None,
    display_name: str | None,
    verified: bool,
    default_org_id: str,
) -> bool:
    """False if the address already has an account (nothing written)."""
    result = await session.execute(
        pg_insert(users)
        .values(
            id=user_id,
            email=email,
            password_hash=password_hash,
            display_name=display_name,
            email_verified_at=func.now() if verified else None,
            security_stamp=new_stamp(),
            default_org_id=default_org_id,
        )
        .on_conflict_do_nothing(index_elements=[users.c.email])
        .returning(users.c.id)
    )
    return result.first() is not None


async def change(session: AsyncSession, user_id: str, **values: Any) -> None:
    await session.execute(
        update(users).where(users.c.id == user_id).values(updated_at=func.now(), **values)
    )


async def change_credentials(session: AsyncSession, user_id: str, **values: Any) -> str:
    """Change credential-related columns and the security stamp with them; the new stamp."""
    stamp = new_stamp()
    await change(session, user_id, security_stamp=stamp, **values)
    return stamp
