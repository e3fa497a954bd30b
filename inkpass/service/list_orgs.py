"""The organisations the signed-in person belongs to."""

from __future__ import annotations

from contracts.inkpass.models import ListOrgsV1, OrgListV1, OrgMembershipV1
from inkpass.adapters import members
from inkpass.adapters.scope import act_as
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction


async def list_orgs(deps: Deps, request: ListOrgsV1) -> OrgListV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        await act_as(tx.session, me.user_id)
        mine = await members.of_user(tx.session, me.user_id)
    return OrgListV1(
        orgs=[OrgMembershipV1(org_id=m.org_id, name=m.name, role=m.role) for m in mine]
    )
