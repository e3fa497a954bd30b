"""Create or replace an ABAC policy of the caller's organisation."""

from __future__ import annotations

from contracts.ids import new_id
from contracts.inkpass.models import AuditKind, PolicyV1, PutPolicyV1
from inkpass.adapters import policies
from inkpass.domain.errors import not_found
from inkpass.domain.roles import Actions
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.policy_changes import announce, view
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def put_policy(deps: Deps, request: PutPolicyV1) -> PolicyV1:
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
        if request.policy_id is None:
            stored = await policies.create(
                tx.session,
                policy_id=new_id(),
                org_id=me.org_id,
                spec=request.spec,
                created_by=me.user_id,
            )
        else:
            replaced = await policies.replace(tx.session, request.policy_id, request.spec)
            if replaced is None:  # unknown, or another org's (invisible under RLS)
                raise not_found("policy")
            stored = replaced
        await announce(tx, deps, me.org_id, "policy_changed")
        await audit(
            tx,
            deps,
            AuditKind.POLICY_CHANGED,
            org_id=me.org_id,
            user_id=me.user_id,
            policy_id=stored.id,
            effect=stored.spec.effect.value,
        )
    return view(stored)
