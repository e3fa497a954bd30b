"""Operator action: disable an account; its sessions end at once, everywhere.

Only a system actor may ask (see `authn.operator_of`).
"""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.inkpass.models import AuditKind, DisableUserV1, InkPassDoneV1, RevocationReason
from inkpass.adapters import users
from inkpass.adapters.users import UserStatus
from inkpass.domain.errors import not_found
from inkpass.service.authn import operator_of
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.revoking import end_everywhere
from inkpass.service.tx import transaction


async def disable_user(deps: Deps, request: DisableUserV1, meta: Meta) -> InkPassDoneV1:
    operator = operator_of(meta)
    async with transaction(deps) as tx:
        user = await users.by_id(tx.session, request.user_id, lock="update")
        if user is None or user.status is UserStatus.DELETED:
            raise not_found("user")
        await users.change_credentials(
            tx.session, user.id, status=UserStatus.DISABLED.value, status_reason=request.reason
        )
        await end_everywhere(tx, deps, user.id, RevocationReason.ACCOUNT_DISABLED)
        await audit(
            tx,
            deps,
            AuditKind.ACCOUNT_DISABLED,
            user_id=user.id,
            actor_id=operator,
            reason=request.reason,
        )
    return InkPassDoneV1()
