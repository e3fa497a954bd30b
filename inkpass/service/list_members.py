"""Members of the caller's organisation."""

from __future__ import annotations

from contracts.inkpass.models import ListMembersV1, MemberListV1, MemberV1
from inkpass.adapters import members
from inkpass.domain.roles import Actions
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction


async def list_members(deps: Deps, request: ListMembersV1) -> MemberListV1:
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
            action=Actions.MEMBER_LIST,
        )
        found = await members.in_org(tx.session, me.org_id)
    return MemberListV1(
        members=[
            MemberV1(
                user_id=m.membership.user_id,
                org_id=m.membership.org_id,
                email=m.email,
                display_name=m.display_name,
                role=m.membership.role,
                attributes=m.membership.attributes,
            )
            for m in found
        ]
    )
