"""Change a member's role. Their sessions in the org end (their tokens carry the old role)."""

from __future__ import annotations

from contracts.inkpass.models import AuditKind, MemberV1, RevocationReason, SetMemberRoleV1
from inkpass.adapters import members
from inkpass.domain.errors import forbidden
from inkpass.domain.roles import Actions, may_assign
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.member_admin import keep_an_owner, target_member
from inkpass.service.membership_changes import announce, member_view
from inkpass.service.recording import audit
from inkpass.service.revoking import end_in_org
from inkpass.service.tx import transaction


async def set_member_role(deps: Deps, request: SetMemberRoleV1) -> MemberV1:
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
        if not may_assign(me.role, request.role):
            raise forbidden(f"a {me.role.value} cannot make someone {request.role.value}")
        await keep_an_owner(tx, target, request.role)
        if target.role is not request.role:
            await members.change(tx.session, me.org_id, target.user_id, role=request.role.value)
            await end_in_org(tx, deps, target.user_id, RevocationReason.ROLE_CHANGED)
            await announce(tx, deps, me.org_id, target.user_id, request.role, "role_changed")
            await audit(
                tx,
                deps,
                AuditKind.MEMBER_ROLE_CHANGED,
                org_id=me.org_id,
                user_id=target.user_id,
                actor_id=me.user_id,
                before=target.role.value,
                after=request.role.value,
            )
        return await member_view(tx, me.org_id, target.user_id)
