"""The send path's own connection pool (asyncpg) for the two writes every email makes.

Why not `shared.db.Database` here: an email's first recording and its outcome were most of
mimic's CPU per email, nearly all of it SQLAlchemy's per-statement work and its unit of work's
extra round trips (pool pre-ping, BEGIN, the org setting, COMMIT), and a consumer running many
sends at once kept opening and closing overflow connections. This pool holds a fixed number of
connections, and each write is one explicit transaction of one or two prepared statements.

The rules stay those of `shared.db`:

* every transaction is scoped to one organisation for row-level security: the org is set on
  the connection (a checked token, `set_config`) when the next user is another organisation;
* messages are written to the shared outbox table in the transaction that writes the state,
  leased to this process, published right after the commit in order (`publish_committed`) and
  marked published many at a time afterwards; what is not published (a crash after commit,
  NATS away) is the shared relay's once the lease ends, or at once when it is given back;
* transient driver failures surface as `shared.db` errors, so the consumer's one retry owner
  handles them as everywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any, Final

import asyncpg

from contracts.ids import new_id
from shared.bus.codec import OutboundMessage
from shared.db.errors import DatabaseUnavailable, translate
from shared.db.outbox import PUBLISH_ALLOWANCE, Publisher, checked_message, publish_committed
from shared.db.raw_outbox import MARK, OUTBOX_ROWS, RELEASE, outbox_params
from shared.db.raw_pools import hot_path_settings, json_codecs, keep
from shared.db.rls import checked_org_id
from shared.logging import get_logger

log = get_logger(__name__)

Conn = Any
"""An asyncpg connection (asyncpg ships no type information)."""

_DRIVER_ERRORS: Final = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class Row:
    """A fetched record read by attribute, as the SQLAlchemy rows the rest of mimic reads."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None


class Tx:
    """One unit on one connection; `publish` sends a message if, and only if, it commits.

    In a transaction the staged messages are written at commit. In a single statement
    (`SendStore.statement`) that statement writes them itself, from `outbox_args`, and hands
    back their ids with `wrote`."""

    def __init__(self, conn: Conn, lease: timedelta) -> None:
        self.conn = conn
        self.batch = new_id()
        self.staged: list[OutboundMessage] = []
        self.written: list[tuple[int, OutboundMessage]] = []
        self.leased_at = 0.0
        self._lease = lease

    def publish(self, message: OutboundMessage) -> None:
        self.staged.append(checked_message(message))

    def outbox_args(self) -> tuple[Any, ...]:
        """The staged messages as `OUTBOX_ROWS`'s parameters $1..$6, in staging order."""
        self.leased_at = time.monotonic()  # before the insert the lease starts at
        return (*outbox_params(self.batch, self.staged), self._lease.total_seconds())

    def unstage(self) -> None:
        """The statement wrote nothing (it did not apply): nothing to publish."""
        self.staged.clear()

    def wrote(self, ids: list[int]) -> None:
        """The staged messages are in the outbox as `ids` (ascending: staging order)."""
        staged, self.staged = self.staged, []
        self.written.extend(zip(ids, staged, strict=True))


class SendStore:
    def __init__(
        self,
        dsn: Callable[[], str],
        publisher: Callable[[], Publisher | None],
        *,
        size: int,
        lease: timedelta,
        statement_timeout_s: float = 30.0,
        idle_in_transaction_timeout_s: float = 60.0,
        application_name: str = "mimic-send",
    ) -> None:
        if lease <= PUBLISH_ALLOWANCE:
            raise ValueError(f"lease must be longer than {PUBLISH_ALLOWANCE}")
        self._dsn = dsn
        self._publisher = publisher
        self._lease = lease
        self._options = {
            "min_size": size,
            "max_size": size,
            "server_settings": hot_path_settings(
                application_name,
                statement_timeout_s=statement_timeout_s,
                idle_in_transaction_timeout_s=idle_in_transaction_timeout_s,
            ),
        }
        self._pool: Any = None
        self._scopes: dict[int, str] = {}
        """The org each connection (by server pid) is scoped to."""
        self._marks: list[int] = []
        self._marking: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- lifecycle
    async def connect(self) -> None:
        if self._pool is None:
            try:
                self._pool = await asyncpg.create_pool(
                    self._dsn(), init=self._init, reset=keep, **self._options
                )
            except Exception as exc:
                raise (translate(exc) or DatabaseUnavailable(str(exc))) from exc

    async def close(self, *, timeout: float = 5.0) -> None:
        if self._marking is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._marking), timeout)
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout)
            except TimeoutError:  # a connection never came back: a stopping service must stop
                pool.terminate()

    async def _init(self, conn: Conn) -> None:
        # A new backend may reuse a dead one's pid: it starts unscoped whatever we knew.
        self._scopes.pop(conn.get_server_pid(), None)
        await json_codecs(conn)

    async def _scope(self, conn: Conn, org: str) -> None:
        pid = conn.get_server_pid()
        if self._scopes.get(pid) == org:
            return
        # Session-wide (not transaction-local): it stays until another org's unit replaces it.
        await conn.execute("SELECT set_config('fluxos.org_id', $1, false)", org)
        self._scopes[pid] = org

    # ---------------------------------------------------------------- units of work
    # Plain functions handing out the unit itself: one async generator layer, not two.
    def transaction(self, org_id: str) -> AbstractAsyncContextManager[Tx]:
        """Committed when the block ends, rolled back if it raises."""
        return self._unit(org_id, explicit=True)

    def statement(self, org_id: str) -> AbstractAsyncContextManager[Tx]:
        """Autocommit: each statement of the block is its own transaction, so the block makes
        one write (reads before it are fine), which writes any staged messages itself
        (`Tx.outbox_args`, `Tx.wrote`); one round trip for it, not three."""
        return self._unit(org_id, explicit=False)

    @asynccontextmanager
    async def _unit(self, org_id: str, *, explicit: bool) -> AsyncIterator[Tx]:
        org = checked_org_id(org_id)
        assert org is not None
        if self._pool is None:
            raise RuntimeError("SendStore.connect() has not been awaited")
        try:
            async with self._pool.acquire() as conn:
                await self._scope(conn, org)
                tx = Tx(conn, self._lease)
                if explicit:
                    await conn.execute("BEGIN")
                try:
                    yield tx
                    if explicit:
                        if tx.staged:
                            tx.wrote(
                                [r["id"] for r in await conn.fetch(OUTBOX_ROWS, *tx.outbox_args())]
                            )
                        await conn.execute("COMMIT")
                    elif tx.staged:
                        raise RuntimeError("messages staged but never written")
                except BaseException:
                    if explicit:
                        await _roll_back(conn)
                    raise
        except _DRIVER_ERRORS as exc:
            transient = translate(exc)
            if transient is None:
                raise
            raise transient from exc
        if tx.written:
            await self._publish(tx.written, tx.leased_at)

    async def _publish(self, written: list[tuple[int, OutboundMessage]], leased_at: float) -> None:
        publisher = self._publisher()
        if publisher is None:  # no bus yet: give the rows to the relay now
            await self._release([row for row, _ in written])
            return
        deadline = leased_at + (self._lease - PUBLISH_ALLOWANCE).total_seconds()
        result = await publish_committed(written, publisher, deadline=deadline)
        if result.sent:
            self._marks.extend(result.sent)
            if self._marking is None or self._marking.done():
                self._marking = asyncio.create_task(self._mark(), name="mimic-send-marks")
        if result.unsent:
            await self._release(result.unsent)

    async def _mark(self) -> None:
        """Mark published rows, every id collected so far in one statement, off the send path.
        A mark that never lands costs a duplicate send the stream drops, not a lost message."""
        while self._marks and self._pool is not None:
            ids, self._marks = self._marks, []
            try:
                async with self._pool.acquire() as conn:
                    await conn.execute(MARK, ids)
            except Exception as exc:
                log.warning("send_store.mark_failed", rows=len(ids), error=str(exc))

    async def _release(self, ids: list[int]) -> None:
        try:
            async with self._pool.acquire() as conn:
                await conn.execute(RELEASE, ids)
        except Exception as exc:  # the relay waits the lease out instead
            log.warning("send_store.release_failed", rows=len(ids), error=str(exc))


async def _roll_back(conn: Conn) -> None:
    if conn.is_closed():
        return
    try:
        await conn.execute("ROLLBACK")
    except Exception:
        # Unknown state: never hand it to the next user (the pool opens a new one).
        conn.terminate()
