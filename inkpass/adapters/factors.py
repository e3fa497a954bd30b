"""Second factors (platform rows): the TOTP secret, sealed with the keyring, and backup codes.

The secret is encrypted with AES-256-GCM bound to (platform, totp_factors, user, secret): copied
to another person's row it no longer decrypts. Backup codes are stored as HMACs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.types import PLATFORM_SCOPE
from inkpass.adapters.tables import backup_codes, totp_factors
from shared.crypto import Binding, Keyring


@dataclass(frozen=True)
class TotpFactor:
    user_id: str
    secret: str
    confirmed: bool
    last_used_step: int


def _binding(user_id: str) -> Binding:
    return Binding(PLATFORM_SCOPE, "totp_factors", user_id, "secret")


async def put_pending(session: AsyncSession, keyring: Keyring, user_id: str, secret: str) -> None:
    """Store a new, unconfirmed secret (replacing an unconfirmed one)."""
    sealed = keyring.encrypt_text(secret, _binding(user_id))
    statement = insert(totp_factors).values(user_id=user_id, secret_enc=sealed)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[totp_factors.c.user_id],
            set_={"secret_enc": sealed, "confirmed_at": None, "last_used_step": 0},
            where=totp_factors.c.confirmed_at.is_(None),
        )
    )


async def get(
    session: AsyncSession, keyring: Keyring, user_id: str, *, lock: bool = False
) -> TotpFactor | None:
    query = select(totp_factors).where(totp_factors.c.user_id == user_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        return None
    secret = keyring.decrypt_text(bytes(row.secret_enc), _binding(user_id))
    return TotpFactor(user_id, secret, row.confirmed_at is not None, row.last_used_step)


async def is_enabled(session: AsyncSession, user_id: str) -> bool:
    row = (
        await session.execute(
            select(totp_factors.c.user_id).where(
                totp_factors.c.user_id == user_id, totp_factors.c.confirmed_at.is_not(None)
            )
        )
    ).first()
    return row is not None


async def use_step(session: AsyncSession, user_id: str, step: int, *, confirm: bool) -> bool:
    """Record `step` as used if it is later than the last used one; False if it is not."""
    values: dict[str, object] = {"last_used_step": step}
    if confirm:
        values["confirmed_at"] = func.now()
    result = await session.execute(
        update(totp_factors)
        .where(totp_factors.c.user_id == user_id, totp_factors.c.last_used_step < step)
        .values(**values)
        .returning(totp_factors.c.user_id)
    )
    return result.first() is not None


async def remove(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(totp_factors).where(totp_factors.c.user_id == user_id))
    await session.execute(delete(backup_codes).where(backup_codes.c.user_id == user_id))


async def replace_backup_codes(session: AsyncSession, user_id: str, hashes: list[bytes]) -> None:
    await session.execute(delete(backup_codes).where(backup_codes.c.user_id == user_id))
    await session.execute(
        insert(backup_codes), [{"user_id": user_id, "code_hash": h} for h in hashes]
    )


async def use_backup_code(session: AsyncSession, user_id: str, code_hash: bytes) -> bool:
    """Spend one backup code; False if it does not exist or was spent."""
    result = await session.execute(
        update(backup_codes)
        .where(
            backup_codes.c.user_id == user_id,
            backup_codes.c.code_hash == code_hash,
            backup_codes.c.used_at.is_(None),
        )
        .values(used_at=func.now())
        .returning(backup_codes.c.user_id)
    )
    return result.first() is not None


async def rotate_secret(session: AsyncSession, keyring: Keyring, user_id: str) -> bool:
    """Re-seal the secret with the current key version if it is older; whether it was."""
    row = (
        await session.execute(
            select(totp_factors.c.secret_enc).where(totp_factors.c.user_id == user_id)
        )
    ).first()
    if row is None or not keyring.needs_rotation(bytes(row.secret_enc)):
        return False
    sealed = keyring.rotate(bytes(row.secret_enc), _binding(user_id))
    await session.execute(
        update(totp_factors).where(totp_factors.c.user_id == user_id).values(secret_enc=sealed)
    )
    return True
