"""One-time passwords (platform rows): one live code per person and purpose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.types import OtpPurpose
from inkpass.adapters.tables import otps
from inkpass.domain.otp import StoredOtp


async def replace(
    session: AsyncSession,
    *,
    user_id: str,
    purpose: OtpPurpose,
    code_hash: bytes,
    expires_at: datetime,
) -> None:
    """Store a new code; the previous one for this purpose stops working."""
    statement = insert(otps).values(
        user_id=user_id, purpose=purpose.value, code_hash=code_hash, expires_at=expires_at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[otps.c.user_id, otps.c.purpose],
            set_={
                "code_hash": statement.excluded.code_hash,
                "expires_at": statement.excluded.expires_at,
                "attempts": 0,
                "consumed_at": None,
                "created_at": func.now(),
            },
        )
    )


async def for_update(session: AsyncSession, user_id: str, purpose: OtpPurpose) -> StoredOtp | None:
    row = (
        await session.execute(
            select(otps)
            .where(otps.c.user_id == user_id, otps.c.purpose == purpose.value)
            .with_for_update()
        )
    ).first()
    if row is None:
        return None
    return StoredOtp(bytes(row.code_hash), row.attempts, row.expires_at, row.consumed_at)


async def record_attempt(
    session: AsyncSession, user_id: str, purpose: OtpPurpose, *, consumed: bool
) -> None:
    values: dict[str, object] = {"attempts": otps.c.attempts + 1}
    if consumed:
        values["consumed_at"] = func.now()
    await session.execute(
        update(otps)
        .where(otps.c.user_id == user_id, otps.c.purpose == purpose.value)
        .values(**values)
    )


async def forget_user(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(otps).where(otps.c.user_id == user_id))


async def prune(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(otps).where(otps.c.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
