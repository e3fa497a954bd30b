"""Delete one's own account after re-authentication.

Sessions end everywhere, memberships go, second factors, codes and linked identities are
deleted, and the person's row is emptied (kept only as an id, which the append-only audit trail
still names). Refused while the person is the last owner of an organisation.
"""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import (
    AuditKind,
    DeleteAccountV1,
    InkPassDoneV1,
    RevocationReason,
)
from contracts.inkpass.types import OtpPurpose, Role
from inkpass.adapters import factors, members, oauth_store, orgs, otps, users
from inkpass.adapters.scope import act_as, enter_org
from inkpass.adapters.users import UserStatus
from inkpass.domain.errors import InkPassError, not_found
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.reauthenticate import reauthenticate
from inkpass.service.recording import audit
from inkpass.service.revoking import end_everywhere
from inkpass.service.tx import transaction


async def delete_account(deps: Deps, request: DeleteAccountV1) -> InkPassDoneV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        user = await users.by_id(tx.session, me.user_id)
    if user is None:
        raise not_found("user")
    await reauthenticate(
        deps,
        user,
        password=request.password,
        code=request.code,
        purpose=OtpPurpose.DELETE_ACCOUNT,
    )
    async with transaction(deps) as tx:
        await users.by_id(tx.session, user.id, lock="update")
        await act_as(tx.session, user.id)
        mine = await members.of_user(tx.session, user.id)
        await end_everywhere(tx, deps, user.id, RevocationReason.ACCOUNT_DELETED)
        for membership in mine:
            await orgs.get(tx.session, membership.org_id, lock=True)
            await enter_org(tx.session, membership.org_id)
            if (
                membership.role is Role.OWNER
                and await members.owners(tx.session, membership.org_id) <= 1
            ):
                raise InkPassError(
                    InkPassErrorCode.LAST_OWNER,
                    "hand over the organisations you own alone before deleting the account",
                    details={"org_id": membership.org_id},
                )
            await members.remove(tx.session, membership.org_id, user.id)
        await enter_org(tx.session, None)
        await factors.remove(tx.session, user.id)
        await otps.forget_user(tx.session, user.id)
        await oauth_store.forget_user(tx.session, user.id)
        await users.change_credentials(
            tx.session,
            user.id,
            status=UserStatus.DELETED.value,
            email=f"deleted-{user.id}@deleted.invalid",
            password_hash=None,
            display_name=None,
            default_org_id=None,
        )
        await audit(tx, deps, AuditKind.ACCOUNT_DELETED, user_id=user.id)
    return InkPassDoneV1()
