"""Attempt counters in PostgreSQL (platform rows), shared by every replica.

`reserve` takes the counters of all keys of one attempt under row locks (in key order, so two
attempts never deadlock), decides with `domain.lockout`, and writes the new counts in the same
transaction. The caller commits that before running the check it guards, so parallel attempts
are counted one by one and none slips through while another is being checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from inkpass.adapters.tables import throttle
from inkpass.domain.lockout import Counter, Limit, reserve


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    retry_after_s: int
    locked: tuple[str, ...]
    """Keys this attempt locked (each worth an audit record)."""


async def reserve_all(session: AsyncSession, limits: dict[str, Limit], now: datetime) -> Outcome:
    keys = sorted(limits)
    await session.execute(
        insert(throttle)
        .values([{"key": k, "attempts": 0, "window_started_at": now} for k in keys])
        .on_conflict_do_nothing(index_elements=[throttle.c.key])
    )
    rows = await session.execute(
        select(throttle).where(throttle.c.key.in_(keys)).order_by(throttle.c.key).with_for_update()
    )
    counters = {r.key: Counter(r.attempts, r.window_started_at, r.locked_until) for r in rows}
    decisions = {k: reserve(counters.get(k), limits[k], now) for k in keys}
    refused = [d for d in decisions.values() if not d.allowed]
    if refused:
        return Outcome(False, max(d.retry_after_s for d in refused), ())
    for key, decision in decisions.items():
        await session.execute(
            update(throttle)
            .where(throttle.c.key == key)
            .values(
                attempts=decision.counter.attempts,
                window_started_at=decision.counter.window_started_at,
                locked_until=decision.counter.locked_until,
            )
        )
    locked = tuple(k for k, d in decisions.items() if d.locked_now)
    return Outcome(True, 0, locked)


async def clear(session: AsyncSession, *keys: str) -> None:
    """Forget the counters (a success from this account and source)."""
    await session.execute(delete(throttle).where(throttle.c.key.in_(keys)))


async def unlock(session: AsyncSession, *keys: str) -> None:
    """Lift the locks a successful attempt placed itself; its count stays."""
    await session.execute(
        update(throttle).where(throttle.c.key.in_(keys)).values(locked_until=None)
    )


async def prune(session: AsyncSession, now: datetime, horizon: timedelta) -> None:
    """Delete counters untouched for longer than any window and lock."""
    await session.execute(
        delete(throttle).where(
            throttle.c.window_started_at < now - horizon,
            (throttle.c.locked_until.is_(None)) | (throttle.c.locked_until < now - horizon),
        )
    )
