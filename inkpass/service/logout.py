"""End the session of a token (access or refresh)."""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AuditKind, InkPassDoneV1, LogoutV1, RevocationReason
from contracts.inkpass.types import TokenKind
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.revoking import end_session
from inkpass.service.tx import transaction
from shared.auth import Claims, TokenRejected


def _claims(deps: Deps, token: str) -> Claims:
    try:
        return deps.codec.decode(token, expect=TokenKind.ACCESS)
    except TokenRejected as exc:
        if exc.code != InkPassErrorCode.TOKEN_WRONG_TYPE.value:
            raise
    return deps.codec.decode(token, expect=TokenKind.REFRESH)


async def logout(deps: Deps, request: LogoutV1) -> InkPassDoneV1:
    claims = _claims(deps, request.token.get_secret_value())
    assert claims.session_id is not None
    async with transaction(deps, claims.org_id) as tx:
        ended = await end_session(
            tx, deps, claims.user_id, claims.session_id, RevocationReason.LOGOUT
        )
        if ended:
            await audit(
                tx,
                deps,
                AuditKind.SIGNED_OUT,
                org_id=claims.org_id,
                user_id=claims.user_id,
                session_id=claims.session_id,
            )
    return InkPassDoneV1()
