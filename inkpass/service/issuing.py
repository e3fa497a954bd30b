"""Opening a session in an organisation and minting its token pair."""

from __future__ import annotations

from datetime import timedelta

from contracts.ids import new_id
from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AuditKind, TokenPairV1
from contracts.inkpass.types import Role, TokenKind
from inkpass.adapters import members, sessions, users
from inkpass.adapters.scope import act_as
from inkpass.adapters.users import User
from inkpass.domain.errors import InkPassError
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import Tx, transaction


def token_pair(
    deps: Deps,
    *,
    user_id: str,
    session_id: str,
    org_id: str,
    role: Role,
    mfa: bool,
    generation: int,
    session_expires_in: int,
) -> TokenPairV1:
    s = deps.settings
    access, _ = deps.codec.issue(
        TokenKind.ACCESS,
        user_id=user_id,
        ttl_s=s.access_ttl_s,
        session_id=session_id,
        org_id=org_id,
        roles=[role],
        mfa=mfa,
    )
    refresh_ttl = max(1, min(s.refresh_ttl_s, session_expires_in))
    refresh, _ = deps.codec.issue(
        TokenKind.REFRESH,
        user_id=user_id,
        ttl_s=refresh_ttl,
        session_id=session_id,
        org_id=org_id,
        generation=generation,
    )
    return TokenPairV1(
        access_token=access,  # type: ignore[arg-type]
        refresh_token=refresh,  # type: ignore[arg-type]
        expires_in=s.access_ttl_s,
        refresh_expires_in=refresh_ttl,
        session_id=session_id,
        user_id=user_id,
        org_id=org_id,
        roles=[role],
    )


async def target_org(deps: Deps, user: User, requested: str | None) -> str:
    """The org to sign in to: the one asked for, else the last used, else the first joined."""
    async with transaction(deps) as tx:
        await act_as(tx.session, user.id)
        mine = await members.of_user(tx.session, user.id)
    ids = [m.org_id for m in mine]
    if requested is not None:
        if requested not in ids:
            raise InkPassError(InkPassErrorCode.NOT_A_MEMBER, "not a member of that organisation")
        return requested
    if user.default_org_id in ids:
        assert user.default_org_id is not None
        return user.default_org_id
    if not ids:
        raise InkPassError(InkPassErrorCode.NOT_A_MEMBER, "the account belongs to no organisation")
    return ids[0]


async def open_in(
    tx: Tx,
    deps: Deps,
    *,
    user_id: str,
    stamp: str,
    mfa: bool,
    method: str,
    source_ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPairV1:
    """A new session in the transaction's org, if the account is still as it was checked.

    The user row is share-locked and its security stamp compared: a password change, disable or
    revoke-all that committed after the credentials were checked voids this sign-in, and one
    that comes later waits for it and then revokes the session it created.
    """
    org_id = tx.org_id
    assert org_id is not None
    user = await users.by_id(tx.session, user_id, lock="share")
    if user is None or user.security_stamp != stamp:
        raise InkPassError(InkPassErrorCode.INVALID_CREDENTIALS, "sign in again")
    if not user.active:
        raise InkPassError(InkPassErrorCode.ACCOUNT_DISABLED, "the account is disabled")
    membership = await members.get(tx.session, org_id, user_id)
    if membership is None:
        raise InkPassError(InkPassErrorCode.NOT_A_MEMBER, "not a member of that organisation")
    now = deps.now()
    session_id = new_id()
    expires_at = now + timedelta(seconds=deps.settings.session_max_age_s)
    await sessions.create(
        tx.session,
        session_id=session_id,
        org_id=org_id,
        user_id=user_id,
        mfa=mfa,
        method=method,
        source_ip=source_ip,
        user_agent=user_agent,
        expires_at=expires_at,
        access_expires_at=now + timedelta(seconds=deps.settings.access_ttl_s + 5),
    )
    if user.default_org_id != org_id:
        await users.change(tx.session, user_id, default_org_id=org_id)
    await audit(
        tx,
        deps,
        AuditKind.SIGN_IN_SUCCEEDED,
        org_id=org_id,
        user_id=user_id,
        source_ip=source_ip,
        method=method,
        mfa=str(mfa).lower(),
        session_id=session_id,
    )
    return token_pair(
        deps,
        user_id=user_id,
        session_id=session_id,
        org_id=org_id,
        role=membership.role,
        mfa=mfa,
        generation=0,
        session_expires_in=deps.settings.session_max_age_s,
    )
