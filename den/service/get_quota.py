"""An organisation's quota and what it uses."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.den.models import GetQuotaV1, QuotaV1
from den.adapters import repository as repo
from den.service.context import Caller, Den


async def quota_view(den: Den, session: AsyncSession, org_id: str) -> QuotaV1:
    row = await repo.get_usage(session, org_id)
    used = 0 if row is None else int(row.used_bytes)
    quota = den.settings.default_quota_bytes
    if row is not None and row.quota_bytes is not None:
        quota = int(row.quota_bytes)
    reserved = await repo.reserved_total(session)
    return QuotaV1(
        quota_bytes=quota,
        used_bytes=used,
        reserved_bytes=reserved,
        available_bytes=max(0, quota - used - reserved),
    )


async def get_quota(den: Den, caller: Caller, request: GetQuotaV1) -> QuotaV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        return await quota_view(den, uow.session, caller.org_id)
