"""Forgetting old provider status receipts (replay protection needs them only for a while)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncEngine

from mimic.adapters.tables import status_receipts


async def prune(engine: AsyncEngine, *, older_than: timedelta) -> int:
    """Receipts past `older_than`. Keep it well beyond any provider's retry horizon (Stripe
    retries for 3 days): a delivery id forgotten while it can still be retried would pass."""
    total = 0
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(status_receipts).where(status_receipts.c.received_at < func.now() - older_than)
        )
        total += result.rowcount
    return total
