"""Set an organisation's quota; only the platform may (billing, an operator's tooling).

Lowering a quota below what is stored keeps every file but refuses new bytes.
"""

from __future__ import annotations

from contracts.den.errors import DenErrorCode
from contracts.den.models import QuotaV1, SetQuotaV1
from contracts.envelope import ActorKind
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.service.context import Caller, Den
from den.service.get_quota import quota_view


async def set_quota(den: Den, caller: Caller, request: SetQuotaV1) -> QuotaV1:
    if caller.actor.kind is not ActorKind.SYSTEM:
        raise DenError(DenErrorCode.FORBIDDEN, "only the platform sets quotas")
    async with den.db.transaction(org_id=caller.org_id) as uow:
        await repo.lock_usage(uow.session, caller.org_id)
        await repo.set_quota(uow.session, caller.org_id, request.quota_bytes)
        return await quota_view(den, uow.session, caller.org_id)
