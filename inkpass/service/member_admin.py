"""Checks shared by the requests that change another member: may this caller touch them?"""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.types import Role
from inkpass.adapters import members, orgs
from inkpass.adapters.members import Membership
from inkpass.domain.errors import InkPassError, forbidden, not_found
from inkpass.domain.roles import may_manage
from inkpass.service.authn import Caller
from inkpass.service.tx import Tx


async def target_member(tx: Tx, me: Caller, user_id: str) -> Membership:
    """The member to change, with the org row locked (owner counts stay true until commit)."""
    await orgs.get(tx.session, me.org_id, lock=True)
    target = await members.get(tx.session, me.org_id, user_id, lock=True)
    if target is None:
        raise not_found("member")
    if target.user_id != me.user_id and not may_manage(me.role, target.role):
        raise forbidden(f"a {me.role.value} cannot change a {target.role.value}")
    return target


async def keep_an_owner(tx: Tx, target: Membership, new_role: Role | None) -> None:
    demoted = target.role is Role.OWNER and new_role is not Role.OWNER
    if demoted and await members.owners(tx.session, target.org_id) <= 1:
        raise InkPassError(InkPassErrorCode.LAST_OWNER, "an organisation keeps at least one owner")
