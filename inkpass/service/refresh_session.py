"""Rotate a refresh token. A token already rotated away is a reuse: the whole session ends.

Rotation is one conditional UPDATE on the session's generation, so of concurrent refreshes with
one token exactly one succeeds and the others see a reuse, which revokes the session (and with
it the winner's new tokens): a family can end, but never fork.
"""

from __future__ import annotations

from datetime import timedelta

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import (
    AuditKind,
    RefreshSessionV1,
    RevocationReason,
    TokenPairV1,
)
from contracts.inkpass.types import TokenKind
from inkpass.adapters import members, sessions, users
from inkpass.domain.errors import InkPassError
from inkpass.service.authn import claims_of
from inkpass.service.deps import Deps
from inkpass.service.issuing import token_pair
from inkpass.service.recording import audit
from inkpass.service.revoking import end_in_org, end_session
from inkpass.service.tx import Tx, transaction
from shared.auth import TokenRejected


async def refresh_session(deps: Deps, request: RefreshSessionV1) -> TokenPairV1:
    claims = claims_of(deps, request.refresh_token, expect=TokenKind.REFRESH)
    assert claims.session_id is not None
    assert claims.org_id is not None
    assert claims.generation is not None
    failure: Exception | None = None
    tokens: TokenPairV1 | None = None
    now = deps.now()
    async with transaction(deps, claims.org_id) as tx:
        rotated = await sessions.rotate(
            tx.session,
            session_id=claims.session_id,
            user_id=claims.user_id,
            generation=claims.generation,
            access_expires_at=now + timedelta(seconds=deps.settings.access_ttl_s + 5),
        )
        if rotated is None:
            failure = await _why(tx, deps, claims.session_id, claims.user_id, claims.generation)
        else:
            user = await users.by_id(tx.session, claims.user_id)
            membership = await members.get(tx.session, claims.org_id, claims.user_id)
            if user is None or not user.active or membership is None:
                # Refresh re-reads the account: whatever ended it ends this session too.
                await end_in_org(tx, deps, claims.user_id, RevocationReason.ACCOUNT_DISABLED)
                failure = TokenRejected(InkPassErrorCode.TOKEN_REVOKED, "the session has ended")
            else:
                remaining = int((rotated.expires_at - now).total_seconds())
                tokens = token_pair(
                    deps,
                    user_id=claims.user_id,
                    session_id=rotated.id,
                    org_id=rotated.org_id,
                    role=membership.role,
                    mfa=rotated.mfa,
                    generation=rotated.generation,
                    session_expires_in=remaining,
                )
    if failure is not None:
        raise failure
    assert tokens is not None
    return tokens


async def _why(tx: Tx, deps: Deps, session_id: str, user_id: str, generation: int) -> Exception:

    current = await sessions.get(tx.session, session_id)
    if current is None or current.user_id != user_id:
        return InkPassError(InkPassErrorCode.TOKEN_INVALID, "no such session")
    if current.revoked_at is not None:
        return TokenRejected(InkPassErrorCode.TOKEN_REVOKED, "the session has ended")
    if current.generation != generation:
        await end_session(tx, deps, user_id, session_id, RevocationReason.REFRESH_REUSED)
        await audit(
            tx,
            deps,
            AuditKind.REFRESH_REUSED,
            org_id=current.org_id,
            user_id=user_id,
            session_id=session_id,
        )
        return InkPassError(
            InkPassErrorCode.REFRESH_REUSED, "refresh token reused: the session has been ended"
        )
    return TokenRejected(InkPassErrorCode.TOKEN_EXPIRED, "the session has expired")
