"""Quota: bytes stored plus bytes held for uploads in progress never exceed the org's quota.

An upload reserves its declared length when it starts (or, when the length is unknown, the next
part's worth at a time while it streams), under a lock on the org's usage row, so concurrent
uploads cannot together overshoot. Reservations live on the upload rows: an upload that ends in
any way releases its own, and a crashed one is released when the reconciler expires it.
Storing exactly up to the quota is allowed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.den.errors import DenErrorCode
from den.adapters import repository as repo
from den.domain.errors import DenError


def quota_of(usage: Row[Any], default: int) -> int:
    return default if usage.quota_bytes is None else int(usage.quota_bytes)


def exceeded(quota: int, used: int, reserved: int, wanted: int) -> DenError:
    return DenError(
        DenErrorCode.QUOTA_EXCEEDED,
        f"storing {wanted} more bytes would exceed the organisation's quota of {quota} bytes",
        details={"quota_bytes": quota, "used_bytes": used, "reserved_bytes": reserved},
    )


async def available(
    session: AsyncSession, org_id: str, upload_id: str, default_quota: int
) -> tuple[int, Row[Any], int]:
    """(bytes this upload may hold, the locked usage row, what the others reserve)."""
    usage = await repo.lock_usage(session, org_id)
    others = await repo.reserved_total(session, except_id=upload_id)
    quota = quota_of(usage, default_quota)
    return quota - int(usage.used_bytes) - others, usage, others


async def reserve_exactly(
    session: AsyncSession, org_id: str, upload_id: str, length: int, default_quota: int
) -> None:
    room, usage, others = await available(session, org_id, upload_id, default_quota)
    if length > room:
        raise exceeded(quota_of(usage, default_quota), int(usage.used_bytes), others, length)


async def reserve_up_to(
    session: AsyncSession, org_id: str, upload_id: str, target: int, default_quota: int
) -> int:
    """Reserve as much of `target` as the quota allows; the amount granted."""
    room, _, _ = await available(session, org_id, upload_id, default_quota)
    return max(0, min(target, room))
