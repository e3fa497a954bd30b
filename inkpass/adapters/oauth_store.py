"""Federated sign-in state (platform rows): pending flows and linked identities.

A flow is stored by the SHA-256 of its state, with the PKCE verifier sealed by the keyring;
provider tokens of a linked identity are sealed too, each bound to its row and column.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.types import PLATFORM_SCOPE
from inkpass.adapters.tables import oauth_flows, oauth_identities
from shared.crypto import Binding, Keyring


def state_hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


@dataclass(frozen=True)
class Flow:
    provider: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    org_id: str | None
    expires_at: datetime
    consumed_at: datetime | None


def _flow_binding(hashed: bytes) -> Binding:
    return Binding(PLATFORM_SCOPE, "oauth_flows", hashed.hex(), "code_verifier")


async def start(
    session: AsyncSession,
    keyring: Keyring,
    *,
    state: str,
    provider: str,
    nonce: str,
    code_verifier: str,
    redirect_uri: str,
    org_id: str | None,
    expires_at: datetime,
) -> None:
    hashed = state_hash(state)
    await session.execute(
        insert(oauth_flows).values(
            state_hash=hashed,
            provider=provider,
            nonce=nonce,
            code_verifier_enc=keyring.encrypt_text(code_verifier, _flow_binding(hashed)),
            redirect_uri=redirect_uri,
            org_id=org_id,
            expires_at=expires_at,
        )
    )


async def consume(session: AsyncSession, keyring: Keyring, state: str) -> Flow | None:
    """Take the flow of `state` (single use): None if unknown or already taken."""
    hashed = state_hash(state)
    row = (
        await session.execute(
            update(oauth_flows)
            .where(oauth_flows.c.state_hash == hashed, oauth_flows.c.consumed_at.is_(None))
            .values(consumed_at=func.now())
            .returning(*oauth_flows.c)
        )
    ).first()
    if row is None:
        return None
    verifier = keyring.decrypt_text(bytes(row.code_verifier_enc), _flow_binding(hashed))
    return Flow(
        row.provider, row.nonce, verifier, row.redirect_uri, row.org_id, row.expires_at, None
    )


async def prune(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(oauth_flows).where(oauth_flows.c.expires_at < now))


def _token_binding(identity_id: str, column: str) -> Binding:
    return Binding(PLATFORM_SCOPE, "oauth_identities", identity_id, column)


async def user_of(session: AsyncSession, provider: str, subject: str) -> str | None:
    row = (
        await session.execute(
            select(oauth_identities.c.user_id).where(
                oauth_identities.c.provider == provider, oauth_identities.c.subject == subject
            )
        )
    ).first()
    return str(row.user_id) if row is not None else None


async def link(
    session: AsyncSession,
    keyring: Keyring,
    *,
    identity_id: str,
    user_id: str,
    provider: str,
    subject: str,
    email: str,
    access_token: str | None,
    refresh_token: str | None,
    expires_at: float | None,
) -> None:
    """Create or refresh the identity's row; its provider tokens are sealed in place."""
    existing = (
        await session.execute(
            select(oauth_identities.c.id).where(
                oauth_identities.c.provider == provider, oauth_identities.c.subject == subject
            )
        )
    ).first()
    row_id = str(existing.id) if existing is not None else identity_id

    def seal(value: str | None, column: str) -> bytes | None:
        if value is None:
            return None
        return keyring.encrypt_text(value, _token_binding(row_id, column))

    values = {
        "email": email,
        "access_token_enc": seal(access_token, "access_token"),
        "refresh_token_enc": seal(refresh_token, "refresh_token"),
        "token_expires_at": datetime.fromtimestamp(expires_at, UTC) if expires_at else None,
        "updated_at": func.now(),
    }
    statement = pg_insert(oauth_identities).values(
        id=row_id, user_id=user_id, provider=provider, subject=subject, **values
    )
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_oauth_identities_provider_subject", set_=values
        )
    )


async def tokens(session: AsyncSession, keyring: Keyring, identity_id: str) -> dict[str, str]:
    """The provider tokens of an identity, decrypted (for calls made on the user's behalf)."""
    row = (
        await session.execute(select(oauth_identities).where(oauth_identities.c.id == identity_id))
    ).first()
    out: dict[str, str] = {}
    if row is None:
        return out
    for column in ("access_token", "refresh_token"):
        sealed = getattr(row, f"{column}_enc")
        if sealed is not None:
            out[column] = keyring.decrypt_text(bytes(sealed), _token_binding(identity_id, column))
    return out


async def forget_user(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(oauth_identities).where(oauth_identities.c.user_id == user_id))
