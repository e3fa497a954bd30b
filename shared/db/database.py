"""A service's connection to its own database: pool, health, transactions.

Nothing connects until `connect()`; `dispose()` closes the pool. Every connection carries a
statement timeout so a runaway query cannot hold a pooled connection (and its locks) for ever,
and an idle-in-transaction timeout so a forgotten transaction cannot either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.db.errors import DatabaseUnavailable, translate
from shared.db.outbox import PUBLISH_ALLOWANCE, PUBLISH_LEASE, Publisher, publish_committed
from shared.db.published_marks import PublishedMarks
from shared.db.rls import checked_org_id, set_org
from shared.db.uow import UnitOfWork
from shared.db.urls import parse_url, to_sqlalchemy_url

log = logging.getLogger(__name__)


def _millis(seconds: float) -> str:
    return str(int(seconds * 1000))


async def _begin(session: AsyncSession, org_id: str | None) -> None:
    """Check out the connection before the block runs, so connect errors are told apart."""
    try:
        await session.connection()
        if org_id is not None:
            await set_org(session, org_id)
    except Exception as exc:
        transient = translate(exc)
        if transient is None:
            raise
        raise transient from exc


class Database:
    """One service's database: build it from the URL, `await connect()`, then::

        async with db.transaction(org_id=meta.org_id) as uow:
            if not await uow.claim_message("tentacle-tasks", meta.message_id):
                return
            uow.session.add(...)
            uow.publish(bus.message(TASK_CREATED, payload))

    Pool and timeout parameters are plain numbers so a service's settings can carry them.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 5,
        max_overflow: int = 5,
        pool_timeout: float = 10.0,
        pool_recycle: float = 1800.0,
        pre_ping: bool = True,
        connect_timeout: float = 10.0,
        statement_timeout: float = 30.0,
        idle_in_transaction_timeout: float = 60.0,
        application_name: str = "fluxos",
        publisher: Publisher | None = None,
        publish_lease: timedelta = PUBLISH_LEASE,
    ) -> None:
        if pool_size < 1 or max_overflow < 0:
            raise ValueError("pool_size must be at least 1 and max_overflow not negative")
        if min(pool_timeout, connect_timeout, statement_timeout, idle_in_transaction_timeout) < 0:
            raise ValueError("timeouts cannot be negative (0 disables a server-side timeout)")
        self._url = to_sqlalchemy_url(url)
        self._engine_options: dict[str, Any] = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "pool_timeout": pool_timeout,
            "pool_recycle": pool_recycle,
            "pool_pre_ping": pre_ping,
            "connect_args": {
                "timeout": connect_timeout,
                "server_settings": {
                    "application_name": application_name[:63],
                    "statement_timeout": _millis(statement_timeout),
                    "idle_in_transaction_session_timeout": _millis(idle_in_transaction_timeout),
                },
            },
        }
        self.publisher = publisher
        """Sends outbox rows after commit; the bus sets it once it is connected."""
        if publish_lease <= PUBLISH_ALLOWANCE:
            raise ValueError(f"publish_lease must be longer than {PUBLISH_ALLOWANCE}")
        self.publish_lease = publish_lease
        """How long committed rows are left to their writer before the relay may send them."""
        self._marks = PublishedMarks(lambda: self.engine)
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    def __repr__(self) -> str:
        url = parse_url(self._url)
        return f"Database({url.host}:{url.port}/{url.database}, connected={self.connected})"

    @property
    def url(self) -> str:
        """The database's URL (with its credentials), e.g. for a service's own asyncpg pool."""
        return self._url

    @property
    def connected(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("Database.connect() has not been awaited")
        return self._engine

    async def connect(self) -> None:
        """Open the pool and check the server answers; DatabaseUnavailable if it does not."""
        if self._engine is not None:
            return
        engine = create_async_engine(self._url, **self._engine_options)
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            await self.ping()
        except BaseException:
            await self.dispose()
            raise

    async def settle_marks(self, timeout: float = 5.0) -> None:
        """Wait until rows published after commit so far are marked so in the table."""
        await self._marks.drain(timeout)

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._marks.drain()
        engine, self._engine, self._sessions = self._engine, None, None
        if engine is not None:
            await engine.dispose()

    async def ping(self) -> float:
        """Seconds a trivial query took, for health checks; DatabaseUnavailable on failure."""
        if self._engine is None:
            raise DatabaseUnavailable("the database is not connected")
        started = time.perf_counter()
        try:
            async with self._engine.connect() as conn:
                await conn.execute(text("select 1"))
        except Exception as exc:
            raise (translate(exc) or DatabaseUnavailable(str(exc))) from exc
        return time.perf_counter() - started

    @asynccontextmanager
    async def transaction(self, *, org_id: str | None = None) -> AsyncIterator[UnitOfWork]:
        """One transaction, scoped to `org_id` for row-level security (None: platform scope).

        Commits when the block ends normally, rolls back when it raises. Messages staged with
        `uow.publish` are written before the commit and published right after it.
        Retryable driver failures surface as `DatabaseUnavailable`, `DatabaseConflict` or
        `DatabaseTimeout`; other errors propagate unchanged.
        """
        org = checked_org_id(org_id)
        if self._sessions is None:
            raise RuntimeError("Database.connect() has not been awaited")
        publisher = self.publisher  # the one the rows are leased to
        lease = self.publish_lease if publisher is not None else None
        async with self._sessions() as session:
            uow = UnitOfWork(session, org, lease=lease)
            try:
                async with session.begin():
                    await _begin(session, org)
                    yield uow
                    await uow.flush()
            except SQLAlchemyError as exc:
                # Only the driver's errors are translated: an OSError from the block's own work
                # (a file, an HTTP call) must not be reported as the database being down.
                transient = translate(exc)
                if transient is None:
                    raise
                raise transient from exc
            written = uow.written
        if not written:
            return
        if publisher is None:
            log.debug("no publisher yet: %d outbox rows left for the relay", len(written))
            return
        result = await publish_committed(
            written, publisher, deadline=uow.lease_ends(PUBLISH_ALLOWANCE)
        )
        self._marks.add(result.sent)
        if result.unsent:
            await self._marks.release(result.unsent)
