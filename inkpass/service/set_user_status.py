"""Operator actions: disable an account (its sessions end at once) or enable it again.

Only a system actor may ask: people reach the bus only through the edge services, which set the
actor from the authenticated caller, so no user can present themselves as the platform.
"""

from __future__ import annotations

from contracts.envelope import ActorKind, Meta
from contracts.inkpass.models import (
    AuditKind,
    DisableUserV1,
    EnableUserV1,
    InkPassDoneV1,
    RevocationReason,
)
from inkpass.adapters import users
from inkpass.adapters.users import UserStatus
from inkpass.domain.errors import forbidden, not_found
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.revoking import end_everywhere
from inkpass.service.tx import transaction


def _operator(meta: Meta) -> str:
    if meta.actor.kind is not ActorKind.SYSTEM:
        raise forbidden("only the platform may disable or enable accounts")
    return meta.actor.id


async def disable_user(deps: Deps, request: DisableUserV1, meta: Meta) -> InkPassDoneV1:
    operator = _operator(meta)
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


async def enable_user(deps: Deps, request: EnableUserV1, meta: Meta) -> InkPassDoneV1:
    operator = _operator(meta)
    async with transaction(deps) as tx:
        user = await users.by_id(tx.session, request.user_id, lock="update")
        if user is None or user.status is UserStatus.DELETED:
            raise not_found("user")
        await users.change(tx.session, user.id, status=UserStatus.ACTIVE.value, status_reason=None)
        await audit(tx, deps, AuditKind.ACCOUNT_ENABLED, user_id=user.id, actor_id=operator)
    return InkPassDoneV1()
