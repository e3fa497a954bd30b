"""Set a member's trusted attributes (policies read them as actor.attributes.*)."""

from __future__ import annotations

from contracts.inkpass.models import AuditKind, MemberV1, SetMemberAttributesV1
from inkpass.adapters import members
from inkpass.domain.roles import Actions
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.member_admin import target_member
from inkpass.service.membership_changes import announce, member_view
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def set_member_attributes(deps: Deps, request: SetMemberAttributesV1) -> MemberV1:
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
            action=Actions.MEMBER_UPDATE,
        )
        target = await target_member(tx, me, request.user_id)
        await members.change(
            tx.session, me.org_id, target.user_id, attributes=dict(request.attributes)
        )
        await announce(tx, deps, me.org_id, target.user_id, target.role, "attributes_changed")
        await audit(
            tx,
            deps,
            AuditKind.MEMBER_ATTRIBUTES_CHANGED,
            org_id=me.org_id,
            user_id=target.user_id,
            actor_id=me.user_id,
            keys=",".join(sorted(request.attributes)),
        )
        return await member_view(tx, me.org_id, target.user_id)
