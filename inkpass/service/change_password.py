"""Change the password: every session ends, and a fresh one is opened for the caller."""

from __future__ import annotations

from contracts.inkpass.models import (
    AuditKind,
    ChangePasswordV1,
    RevocationReason,
    TokenPairV1,
)
from inkpass.adapters import users
from inkpass.adapters.email import EmailKind
from inkpass.domain.errors import not_found
from inkpass.domain.passwords import check_new_password
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.issuing import open_in
from inkpass.service.reauthenticate import reauthenticate
from inkpass.service.recording import audit, email
from inkpass.service.revoking import end_everywhere
from inkpass.service.tx import transaction


async def change_password(deps: Deps, request: ChangePasswordV1) -> TokenPairV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        user = await users.by_id(tx.session, me.user_id)
    if user is None:
        raise not_found("user")
    new_password = request.new_password.get_secret_value()
    check_new_password(new_password, email=user.email)
    await reauthenticate(deps, user, password=request.current_password)
    new_hash = await deps.hasher.hash(new_password)
    async with transaction(deps, claims.org_id) as tx:
        await users.by_id(tx.session, user.id, lock="update")
        stamp = await users.change_credentials(tx.session, user.id, password_hash=new_hash)
        await end_everywhere(tx, deps, user.id, RevocationReason.PASSWORD_CHANGED)
        await audit(tx, deps, AuditKind.PASSWORD_CHANGED, user_id=user.id)
        email(
            tx,
            deps,
            EmailKind.PASSWORD_CHANGED,
            to=user.email,
            org_id=user.default_org_id,
            name=user.display_name,
            variables={},
        )
        return await open_in(
            tx, deps, user_id=user.id, stamp=stamp, mfa=claims.mfa, method="password_change"
        )
