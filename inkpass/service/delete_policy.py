"""Delete an ABAC policy of the caller's organisation."""

from __future__ import annotations

from contracts.inkpass.models import AuditKind, DeletePolicyV1, InkPassDoneV1
from inkpass.adapters import policies
from inkpass.domain.errors import not_found
from inkpass.domain.roles import Actions
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.policy_changes import announce
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def delete_policy(deps: Deps, request: DeletePolicyV1) -> InkPassDoneV1:
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
            action=Actions.POLICY_WRITE,
        )
        if not await policies.remove(tx.session, request.policy_id):
            raise not_found("policy")
        await announce(tx, deps, me.org_id, "policy_deleted")
        await audit(
            tx,
            deps,
            AuditKind.POLICY_DELETED,
            org_id=me.org_id,
            user_id=me.user_id,
            policy_id=request.policy_id,
        )
    return InkPassDoneV1()
