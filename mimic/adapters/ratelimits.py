"""Rate-limit counters in PostgreSQL: one row per (scope, key, window), shared by replicas.

Charging is one upsert per counter, each of which either adds one or (at the limit) changes
nothing; all of them run in a savepoint so that a message over any limit consumes none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mimic.adapters.tables import rate_counters
from mimic.domain.ratelimit import Counter


async def charge(session: AsyncSession, counters: Sequence[Counter]) -> Counter | None:
    """Count one message against every counter; the first that is full, or None if none is."""
    async with session.begin_nested() as savepoint:
        for counter in counters:
            values = insert(rate_counters).values(
                scope=counter.limit.scope.value,
                key=counter.key,
                window_start=counter.window_start,
                count=1,
                expires_at=counter.window_end,
            )
            statement = values.on_conflict_do_update(
                constraint=rate_counters.primary_key,
                set_={"count": rate_counters.c.count + 1},
                where=rate_counters.c.count < counter.limit.max_count,
            ).returning(rate_counters.c.count)
            if (await session.execute(statement)).first() is None:
                await savepoint.rollback()
                return counter
    return None


async def prune(engine: AsyncEngine, *, grace: timedelta = timedelta(minutes=5)) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(rate_counters).where(rate_counters.c.expires_at < func.now() - grace)
        )
    return result.rowcount
