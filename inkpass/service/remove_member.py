"""Remove a member (or leave): their sessions in the org end at once."""

from __future__ import annotations

from contracts.inkpass.models import AuditKind, InkPassDoneV1, RemoveMemberV1, RevocationReason
from inkpass.adapters import members
from inkpass.domain.roles import Actions
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.member_admin import keep_an_owner, target_member
from inkpass.service.membership_changes import announce
from inkpass.service.recording import audit
from inkpass.service.revoking import end_in_org
from inkpass.service.tx import transaction


async def remove_member(deps: Deps, request: RemoveMemberV1) -> InkPassDoneV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        if request.user_id != me.user_id:  # anyone may leave; removing others is guarded
            await require(
                deps,
                tx.session,
                org_id=me.org_id,
                user_id=me.user_id,
                role=me.role,
                mfa=claims.mfa,
                action=Actions.MEMBER_REMOVE,
            )
        target = await target_member(tx, me, request.user_id)
        await keep_an_owner(tx, target, None)
        await members.remove(tx.session, me.org_id, target.user_id)
        await end_in_org(tx, deps, target.user_id, RevocationReason.MEMBER_REMOVED)
        await announce(tx, deps, me.org_id, target.user_id, None, "member_removed")
        await audit(
            tx,
            deps,
            AuditKind.MEMBER_REMOVED,
            org_id=me.org_id,
            user_id=target.user_id,
            actor_id=me.user_id,
        )
    return InkPassDoneV1()
