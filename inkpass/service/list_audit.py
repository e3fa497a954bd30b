"""The organisation's recent security events, newest first."""

from __future__ import annotations

from contracts.inkpass.models import AuditListV1, ListAuditV1
from inkpass.adapters import audit as audit_rows
from inkpass.domain.roles import Actions
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction


async def list_audit(deps: Deps, request: ListAuditV1) -> AuditListV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        await require(
            deps,
            tx.session,
            org_id=me.org_id,
            user_id=me.user_id,
            role=me.role,
            mfa=claims.mfa,
            action=Actions.AUDIT_READ,
        )
        events = await audit_rows.of_org(tx.session, me.org_id, request.limit)
    return AuditListV1(events=events)
