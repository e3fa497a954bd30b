"""The projection's own connections: a batch of lifecycle events is one autocommit statement.

Why not `shared.db.Database` here: on the path from a lifecycle event to every open stream, the
projection's unit of work cost ten round trips (pool pre-ping, BEGIN, the org setting, five
projection statements, the feed's bump, COMMIT), most of its time. `inbox_project` (migration
0002) sets the org and does all of it inside one statement, which autocommit makes one
transaction. No pre-ping either: a connection that died fails its batch, whose deliveries are
not acknowledged and come again from JetStream (the one retry owner); asyncpg drops the dead
connection and the next batch opens another.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Final

import asyncpg

from shared.db.errors import DatabaseUnavailable, translate
from shared.db.raw_pools import hot_path_settings
from shared.db.rls import checked_org_id

_PROJECT: Final = "SELECT inbox_project($1, $2::jsonb)"


async def _keep(_: Any) -> None:
    """Nothing to reset when a connection comes back: its only statement committed, and the
    org setting was local to that statement's transaction. (asyncpg's reset is a round trip
    that would stand between the commit and the announcement.)"""


class ProjectionStore:
    def __init__(self, *, size: int = 2, application_name: str = "inbox-projection") -> None:
        self._size = size
        self._application_name = application_name
        self._pool: Any = None  # asyncpg.Pool (asyncpg ships no type information)

    async def open(self, dsn: str) -> None:
        """Open the pool (before the lifecycle consumer takes deliveries)."""
        try:
            self._pool = await asyncpg.create_pool(
                dsn,
                min_size=self._size,
                max_size=self._size,
                reset=_keep,
                # A stuck batch must not hold the feed's head for ever (the statement timeout).
                server_settings=hot_path_settings(self._application_name),
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise (translate(exc) or DatabaseUnavailable(str(exc))) from exc

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 5.0)

    async def project(self, org_id: str, events: list[dict[str, Any]]) -> Any:
        """Apply `events` (see migration 0002 for their shape); the entries it appended."""
        pool = self._pool
        if pool is None:
            raise DatabaseUnavailable("the projection's pool is not open")
        org = checked_org_id(org_id)
        try:
            found = await pool.fetchval(_PROJECT, org, json.dumps(events))
        except asyncpg.PostgresError as exc:  # a conflict, a timeout, or what the batch broke
            raise (translate(exc) or exc) from exc
        except (OSError, asyncpg.InterfaceError) as exc:  # the connection died: transient
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from exc
        return json.loads(found)
