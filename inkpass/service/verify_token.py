"""The authoritative check of an access token: signature and claims, then the session itself.

Unlike a local verification, this also reads the session and the membership from PostgreSQL:
the roles returned are the member's roles now, not those written into the token.
"""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.inkpass.models import PrincipalV1, VerifyTokenV1
from contracts.inkpass.types import TokenKind
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction


async def verify_token(deps: Deps, request: VerifyTokenV1) -> PrincipalV1:
    claims = claims_of(deps, request.token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
    return PrincipalV1(
        user_id=me.user_id,
        org_id=me.org_id,
        session_id=me.session.id,
        roles=[me.role],
        mfa=claims.mfa,
        token_type=TokenKind.ACCESS,
        expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
    )
