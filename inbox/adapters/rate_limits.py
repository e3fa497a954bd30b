"""Request rate limits in PostgreSQL, shared by every inbox replica: one statement a request.

GCRA (the generic cell rate algorithm): each key keeps one timestamp, its "theoretical arrival
time". A request is allowed when that time is at most `burst - 1` intervals ahead of now, and
pushes it one interval further. Allowing and counting is one upsert, atomic on its own, so
replicas behind a load balancer share each caller's allowance exactly.

Its own small asyncpg pool, autocommit: no transaction, no pre-ping, one round trip. If the
database does not answer quickly the request is let through (and logged): a rate limiter must
not be the reason the inbox is down.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

import asyncpg

from shared.logging import get_logger

log = get_logger(__name__)

_TAKE: Final = """
    INSERT INTO rate_limits AS r (key, tat)
    VALUES ($1, clock_timestamp() + make_interval(secs => $2))
    ON CONFLICT (key) DO UPDATE
       SET tat = greatest(r.tat, clock_timestamp()) + make_interval(secs => $2)
     WHERE greatest(r.tat, clock_timestamp()) - clock_timestamp()
           <= make_interval(secs => $3)
    RETURNING 1
"""
_PRUNE: Final = "DELETE FROM rate_limits WHERE tat < clock_timestamp() - interval '1 hour'"

_ANSWER_WITHIN_S: Final = 0.5
_WARN_EVERY_S: Final = 30.0
_PRUNE_EVERY_S: Final = 600.0


class SharedRateLimits:
    def __init__(self, *, application_name: str = "inbox-rate-limits") -> None:
        self.application_name = application_name
        self._pool: asyncpg.Pool | None = None
        self._warned_at = 0.0

    async def take(self, key: str, *, per_minute: int, burst: int) -> bool:
        """Count one request of `key`; False when it is over `per_minute` (bursts of `burst`)."""
        pool = self._pool
        if pool is None:
            return self._fail_open("not connected yet")
        interval = 60.0 / per_minute
        try:
            row = await pool.fetchval(
                _TAKE, key[:200], interval, interval * (burst - 1), timeout=_ANSWER_WITHIN_S
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            return self._fail_open(str(exc) or type(exc).__name__)
        return row is not None

    def _fail_open(self, why: str) -> bool:
        now = time.monotonic()
        if now - self._warned_at > _WARN_EVERY_S:
            self._warned_at = now
            log.warning("rate_limits.unavailable_letting_requests_through", error=why)
        return True

    async def open(self, dsn: str) -> None:
        """Open the pool (before the HTTP server takes requests)."""
        self._pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=4,
            server_settings={"application_name": self.application_name},
        )

    async def prune_until_stopped(self) -> None:
        """Drop long-idle keys now and then; close the pool when the service stops."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("SharedRateLimits.open() has not been awaited")
        try:
            while True:
                try:
                    await pool.execute(_PRUNE)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("rate_limits.prune_failed", error=str(exc))
                await asyncio.sleep(_PRUNE_EVERY_S)
        finally:
            self._pool = None
            await pool.close()
