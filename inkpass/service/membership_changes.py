"""What follows a change of who holds which role in an org (shared by the member requests)."""

from __future__ import annotations

from contracts.inkpass.models import AuthzChangedV1, MemberChangedV1, MemberV1
from contracts.inkpass.subjects import AUTHZ_CHANGED, MEMBER_CHANGED
from contracts.inkpass.types import Role
from inkpass.adapters import members, orgs, users
from inkpass.domain.errors import not_found
from inkpass.service.deps import Deps
from inkpass.service.tx import Tx


async def announce(
    tx: Tx, deps: Deps, org_id: str, user_id: str, role: Role | None, reason: str
) -> None:
    """Bump the org's epoch; tell caches their decisions are stale and watchers who changed."""
    epoch = await orgs.bump_epoch(tx.session, org_id)
    tx.publish(
        deps.bus.message(
            AUTHZ_CHANGED,
            AuthzChangedV1(org_id=org_id, epoch=epoch, user_id=user_id, reason=reason),
            org_id=org_id,
        )
    )
    tx.publish(
        deps.bus.message(
            MEMBER_CHANGED,
            MemberChangedV1(org_id=org_id, user_id=user_id, role=role),
            org_id=org_id,
        )
    )
    tx.after_commit(lambda: deps.authz.drop_org(org_id))


async def member_view(tx: Tx, org_id: str, user_id: str) -> MemberV1:
    membership = await members.get(tx.session, org_id, user_id)
    user = await users.by_id(tx.session, user_id)
    if membership is None or user is None:
        raise not_found("member")
    return MemberV1(
        user_id=user_id,
        org_id=org_id,
        email=user.email,
        display_name=user.display_name,
        role=membership.role,
        attributes=membership.attributes,
    )
