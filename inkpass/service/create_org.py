"""Create another organisation, owned by the signed-in person."""

from __future__ import annotations

from contracts.ids import new_id
from contracts.inkpass.models import AuditKind, CreateOrgV1, OrgCreatedV1, OrgMembershipV1
from contracts.inkpass.subjects import ORG_CREATED
from contracts.inkpass.types import Role
from inkpass.adapters import members, orgs
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def create_org(deps: Deps, request: CreateOrgV1) -> OrgMembershipV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
    org_id = new_id()
    async with transaction(deps, org_id) as tx:
        await orgs.create(tx.session, org_id=org_id, name=request.name, created_by=me.user_id)
        await members.add(tx.session, org_id=org_id, user_id=me.user_id, role=Role.OWNER)
        tx.publish(
            deps.bus.message(
                ORG_CREATED,
                OrgCreatedV1(org_id=org_id, name=request.name, owner_id=me.user_id),
                org_id=org_id,
            )
        )
        await audit(tx, deps, AuditKind.ORG_CREATED, org_id=org_id, user_id=me.user_id)
    return OrgMembershipV1(org_id=org_id, name=request.name, role=Role.OWNER)
