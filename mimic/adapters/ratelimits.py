"""Rate-limit counters in PostgreSQL: one row per (scope, key, window), shared by replicas.

Charging is one statement for all counters: an upsert that adds one to each counter below its
limit and leaves a full one alone. The rows it returns are the counters it charged; if one is
missing, that limit is full, and the others are given their unit back in the same transaction
(their rows are locked by then), so a refused message consumes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import case, delete, func, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mimic.adapters.tables import rate_counters
from mimic.domain.ratelimit import Counter


async def charge(session: AsyncSession, counters: Sequence[Counter]) -> Counter | None:
    """Count one message against every counter; the first that is full, or None if none is."""
    limits = case(
        *((rate_counters.c.scope == c.limit.scope.value, c.limit.max_count) for c in counters),
        else_=0,
    )
    statement = insert(rate_counters).values(
        [
            {
                "scope": c.limit.scope.value,
                "key": c.key,
                "window_start": c.window_start,
                "count": 1,
                "expires_at": c.window_end,
            }
            for c in counters
        ]
    )
    statement = statement.on_conflict_do_update(
        constraint=rate_counters.primary_key,
        set_={"count": rate_counters.c.count + 1},
        where=rate_counters.c.count < limits,
    )
    result = await session.execute(statement.returning(rate_counters.c.scope))
    charged = {scope for (scope,) in result.all()}
    full = [c for c in counters if c.limit.scope.value not in charged]
    if not full:
        return None
    given = [c for c in counters if c.limit.scope.value in charged]
    if given:
        key = tuple_(rate_counters.c.scope, rate_counters.c.key, rate_counters.c.window_start)
        await session.execute(
            update(rate_counters)
            .where(key.in_([(c.limit.scope.value, c.key, c.window_start) for c in given]))
            .values(count=rate_counters.c.count - 1)
        )
    return full[0]


async def prune(engine: AsyncEngine, *, grace: timedelta = timedelta(minutes=5)) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(rate_counters).where(rate_counters.c.expires_at < func.now() - grace)
        )
    return result.rowcount
