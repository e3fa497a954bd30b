"""Operator action: enable a disabled account again (it signs in anew; nothing is restored).

Only a system actor may ask (see `authn.operator_of`).
"""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.inkpass.models import AuditKind, EnableUserV1, InkPassDoneV1
from inkpass.adapters import users
from inkpass.adapters.users import UserStatus
from inkpass.domain.errors import not_found
from inkpass.service.authn import operator_of
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def enable_user(deps: Deps, request: EnableUserV1, meta: Meta) -> InkPassDoneV1:
    operator = operator_of(meta)
    async with transaction(deps) as tx:
        user = await users.by_id(tx.session, request.user_id, lock="update")
        if user is None or user.status is UserStatus.DELETED:
            raise not_found("user")
        await users.change(tx.session, user.id, status=UserStatus.ACTIVE.value, status_reason=None)
        await audit(tx, deps, AuditKind.ACCOUNT_ENABLED, user_id=user.id, actor_id=operator)
    return InkPassDoneV1()
