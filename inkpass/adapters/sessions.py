"""Sessions (tenant rows): one sign-in of one person in one organisation.

Refresh-token rotation is one conditional UPDATE: it succeeds only for the token carrying the
session's current generation, so of two concurrent refreshes with the same token exactly one
wins (PostgreSQL re-checks the condition after waiting for the winner's row lock) and the other
is seen as a reuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.types import Role
from inkpass.adapters.tables import memberships, sessions, users


@dataclass(frozen=True)
class Session:
    id: str
    org_id: str
    user_id: str
    generation: int
    mfa: bool
    method: str
    expires_at: datetime
    access_expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Ended:
    """A session just revoked, and until when its access tokens could still be presented."""

    session_id: str
    org_id: str
    tokens_expire_by: datetime


def _session(row: Any) -> Session:
    return Session(
        row.id,
        row.org_id,
        row.user_id,
        row.generation,
        row.mfa,
        row.method,
        row.expires_at,
        row.access_expires_at,
        row.revoked_at,
    )


async def create(
    session: AsyncSession,
    *,
    session_id: str,
    org_id: str,
    user_id: str,
    mfa: bool,
    method: str,
    source_ip: str | None,
    user_agent: str | None,
    expires_at: datetime,
    access_expires_at: datetime,
) -> None:
    await session.execute(
        insert(sessions).values(
            id=session_id,
            org_id=org_id,
            user_id=user_id,
            mfa=mfa,
            method=method,
            source_ip=source_ip,
            user_agent=user_agent,
            expires_at=expires_at,
            access_expires_at=access_expires_at,
        )
    )


async def get(session: AsyncSession, session_id: str) -> Session | None:
    row = (await session.execute(select(sessions).where(sessions.c.id == session_id))).first()
    return _session(row) if row is not None else None


async def rotate(
    session: AsyncSession,
    *,
    session_id: str,
    user_id: str,
    generation: int,
    access_expires_at: datetime,
) -> Session | None:
    """Advance the generation if `generation` is current and the session alive; else None."""
    row = (
        await session.execute(
            update(sessions)
            .where(
                sessions.c.id == session_id,
                sessions.c.user_id == user_id,
                sessions.c.generation == generation,
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > func.now(),
            )
            .values(
                generation=sessions.c.generation + 1,
                refreshed_at=func.now(),
                access_expires_at=func.greatest(sessions.c.access_expires_at, access_expires_at),
            )
            .returning(*sessions.c)
        )
    ).first()
    return _session(row) if row is not None else None


async def extend_access(session: AsyncSession, session_id: str, until: datetime) -> None:
    await session.execute(
        update(sessions)
        .where(sessions.c.id == session_id)
        .values(access_expires_at=func.greatest(sessions.c.access_expires_at, until))
    )


async def revoke(
    session: AsyncSession,
    *,
    reason: str,
    session_id: str | None = None,
    user_id: str | None = None,
    except_id: str | None = None,
) -> list[Ended]:
    """End live sessions in the current org scope: one by id, or all of a user's."""
    query = update(sessions).where(sessions.c.revoked_at.is_(None))
    if session_id is not None:
        query = query.where(sessions.c.id == session_id)
    if user_id is not None:
        query = query.where(sessions.c.user_id == user_id)
    if session_id is None and user_id is None:
        raise ValueError("revoke needs a session or a user")
    if except_id is not None:
        query = query.where(sessions.c.id != except_id)
    rows = await session.execute(
        query.values(revoked_at=func.now(), revoked_reason=reason).returning(
            sessions.c.id, sessions.c.org_id, sessions.c.access_expires_at
        )
    )
    return [Ended(r.id, r.org_id, r.access_expires_at) for r in rows]


@dataclass(frozen=True)
class LiveSession:
    session: Session
    role: Role
    user_active: bool


async def live(session: AsyncSession, session_id: str) -> LiveSession | None:
    """The session with its holder's current role, if it is unrevoked, unexpired and a member."""
    row = (
        await session.execute(
            select(sessions, memberships.c.role.label("member_role"), users.c.status)
            .join(
                memberships,
                (memberships.c.org_id == sessions.c.org_id)
                & (memberships.c.user_id == sessions.c.user_id),
            )
            .join(users, users.c.id == sessions.c.user_id)
            .where(
                sessions.c.id == session_id,
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > func.now(),
            )
        )
    ).first()
    if row is None:
        return None
    return LiveSession(_session(row), Role(row.member_role), row.status == "active")
