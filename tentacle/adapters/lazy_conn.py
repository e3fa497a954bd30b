"""A pool connection taken at a unit's first statement rather than when the unit begins.

Why: a step's cycle usually works from the state this replica cached when it dispatched the
step, and its one write goes through group commit on connections of its own, so it runs no
statement on the unit's connection at all. Taking (and scoping) one anyway cost a few per
cent of a replica's CPU, and it capped how many cycles could wait for a batch at once at the
pool's size (so a batch's size too).

Only autocommit units use it: every statement is a transaction of its own there, so taking
the connection later changes nothing but when. It offers the statements such units run
(`fetch`, `fetchrow`, `fetchval`, `execute`); anything else is refused by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Conn = Any
"""An asyncpg connection (asyncpg ships no type information)."""


Scope = Callable[[Conn, str | None], Awaitable[None]]
"""Scopes a connection to an organisation (or to none)."""


async def take_scoped(pool: Any, scope: Scope, org_id: str | None) -> Conn:
    """A pool connection scoped to `org_id`, given back to the pool if scoping it fails."""
    conn = await pool.acquire()
    try:
        await scope(conn, org_id)
    except BaseException:
        await pool.release(conn)
        raise
    return conn


class LazyConnection:
    def __init__(
        self,
        pool: Any,
        scope: Scope,
        org_id: str | None,
    ) -> None:
        self._pool = pool
        self._scope = scope
        self._org_id = org_id
        self._conn: Conn | None = None

    @property
    def taken(self) -> bool:
        """Whether a statement ran (a connection is held until `release`)."""
        return self._conn is not None

    async def _take(self) -> Conn:
        if self._conn is None:
            self._conn = await take_scoped(self._pool, self._scope, self._org_id)
        return self._conn

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._pool.release(conn)

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await (await self._take()).fetch(query, *args, **kwargs)

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await (await self._take()).fetchrow(query, *args, **kwargs)

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await (await self._take()).fetchval(query, *args, **kwargs)

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await (await self._take()).execute(query, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"a lazily taken connection offers fetch, fetchrow, fetchval and execute, not {name}"
        )
