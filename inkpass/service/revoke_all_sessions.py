"""End every session of the signed-in person, in every organisation."""

from __future__ import annotations

from contracts.inkpass.models import (
    AuditKind,
    RevocationReason,
    RevokeAllSessionsV1,
    SessionsEndedV1,
)
from inkpass.adapters import users
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.revoking import end_everywhere
from inkpass.service.tx import transaction


async def revoke_all_sessions(deps: Deps, request: RevokeAllSessionsV1) -> SessionsEndedV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        # A new stamp voids sign-ins in flight (checked password, session not yet opened).
        await users.by_id(tx.session, me.user_id, lock="update")
        await users.change_credentials(tx.session, me.user_id)
        ended = await end_everywhere(tx, deps, me.user_id, RevocationReason.REVOKE_ALL)
        await audit(tx, deps, AuditKind.SESSIONS_REVOKED, user_id=me.user_id, count=str(len(ended)))
    return SessionsEndedV1(sessions=len(ended))
