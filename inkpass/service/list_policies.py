"""The ABAC policies of the caller's organisation."""

from __future__ import annotations

from contracts.inkpass.models import ListPoliciesV1, PolicyListV1
from inkpass.adapters import policies
from inkpass.domain.roles import Actions
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.policy_changes import view
from inkpass.service.tx import transaction


async def list_policies(deps: Deps, request: ListPoliciesV1) -> PolicyListV1:
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
            action=Actions.POLICY_LIST,
        )
        found = await policies.in_org(tx.session, me.org_id)
    return PolicyListV1(policies=[view(p) for p in found])
