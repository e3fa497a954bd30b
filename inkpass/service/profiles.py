"""Reading a profile (shared by the profile requests)."""

from __future__ import annotations

from contracts.inkpass.models import OrgMembershipV1, ProfileV1
from inkpass.adapters import factors, members, users
from inkpass.adapters.scope import act_as
from inkpass.domain.errors import not_found
from inkpass.service.tx import Tx


async def profile_of(tx: Tx, user_id: str) -> ProfileV1:
    user = await users.by_id(tx.session, user_id)
    if user is None:
        raise not_found("user")
    await act_as(tx.session, user_id)
    mine = await members.of_user(tx.session, user_id)
    return ProfileV1(
        user_id=user.id,
        email=user.email,
        email_verified=user.email_verified,
        display_name=user.display_name,
        totp_enabled=await factors.is_enabled(tx.session, user_id),
        has_password=user.password_hash is not None,
        created_at=user.created_at,
        orgs=[OrgMembershipV1(org_id=m.org_id, name=m.name, role=m.role) for m in mine],
    )
