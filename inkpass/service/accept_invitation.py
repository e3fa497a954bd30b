"""Join an organisation with an invitation sent to one's own verified address.

Every way an invitation can fail (unknown, another org's, wrong token, expired, used, for
another address) answers the same `invitation_invalid`.
"""

from __future__ import annotations

import hmac

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AcceptInvitationV1, AuditKind, OrgMembershipV1
from inkpass.adapters import invitations, members, orgs, users
from inkpass.domain.errors import InkPassError
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.invite_member import invitation_hash
from inkpass.service.membership_changes import announce
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


def _invalid() -> InkPassError:
    return InkPassError(InkPassErrorCode.INVITATION_INVALID, "the invitation is not valid")


async def accept_invitation(deps: Deps, request: AcceptInvitationV1) -> OrgMembershipV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        user = await users.by_id(tx.session, me.user_id)
    assert user is not None
    async with transaction(deps, request.org_id) as tx:
        invitation = await invitations.get_for_update(tx.session, request.invitation_id)
        presented = invitation_hash(deps, request.invitation_id, request.token.get_secret_value())
        if (
            invitation is None
            or not hmac.compare_digest(invitation.token_hash, presented)
            or invitation.accepted_at is not None
            or invitation.expires_at <= deps.now()
            or not user.email_verified
            or invitation.email != user.email
        ):
            raise _invalid()
        if await members.get(tx.session, request.org_id, user.id) is not None:
            raise InkPassError(InkPassErrorCode.CONFLICT, "already a member")
        org = await orgs.get(tx.session, request.org_id)
        assert org is not None
        await members.add(tx.session, org_id=org.id, user_id=user.id, role=invitation.role)
        await invitations.accept(tx.session, invitation.id, user.id)
        await announce(tx, deps, org.id, user.id, invitation.role, "member_joined")
        await audit(
            tx,
            deps,
            AuditKind.MEMBER_JOINED,
            org_id=org.id,
            user_id=user.id,
            role=invitation.role.value,
        )
    return OrgMembershipV1(org_id=org.id, name=org.name, role=invitation.role)
