"""Tentacle's own connection pool (asyncpg) and units of work on its service database.

Why not `shared.db.Database` here: a step's orchestration cycle must cost a few hundred
microseconds of database work, and SQLAlchemy's per-statement cost plus the round trips of its
unit of work (pool pre-ping, BEGIN, org setting, the statements, COMMIT, a second transaction to
mark the outbox) were most of a step's time. The rules stay the same:

* every statement runs scoped to one organisation for row-level security. The org is set on
  the connection when it is taken from the pool (a checked subject token, set with
  `set_config`), and changed only when the next user is another organisation, so a
  connection serving one org needs no extra round trip;
* a unit of work is either one statement (`statement()`, autocommit: atomic on its own, as the
  orchestrator's versioned cycle write is) or an explicit transaction (`transaction()`);
* a one-statement unit's cycle write (`Tx.write`) goes through group commit
  (`group_commit.py`): writes ready at the same moment share one transaction and one commit,
  on connections of their own (a unit holding a pool connection never waits for one);
* messages are written to the shared outbox table (`fluxos_outbox`) by the statement or
  transaction that writes the state, and published right after commit, in staging order,
  with `Nats-Msg-Id` for JetStream dedupe; whatever is not published (a crash after commit,
  NATS down) is left to the shared outbox relay, which sweeps the same table. Published rows
  are marked by the next write (or a short background flush when none comes); a row published
  twice is dropped by JetStream's dedupe and consumers' message-id claims;
* the rows are leased to their writer as `shared.db.outbox` says (`next_attempt_at`): the
  relay leaves them alone until the lease ends, so it neither sends them a second time while
  this process is sending them nor holds their row locks while a write waits to mark them
  (under load both stalled group commit). A unit that cannot send its rows (NATS down, the
  lease run short) gives the lease back at once, so the relay need not wait it out.

Transient database failures surface as `shared.db` errors (DatabaseUnavailable, ...), so the
consumers' one retry owner handles them as everywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final

import asyncpg

from contracts.ids import new_id
from shared.bus.codec import OutboundMessage
from shared.db.errors import DatabaseUnavailable, translate
from shared.db.outbox import PUBLISH_ALLOWANCE, PUBLISH_LEASE, checked_message
from shared.db.raw_outbox import MARK, OUTBOX_ROWS, RELEASE, outbox_params
from shared.db.raw_pools import hot_path_settings, json_codecs, keep
from shared.db.rls import checked_org_id
from shared.logging import get_logger
from tentacle.adapters.group_commit import DEFAULT_IN_FLIGHT, GroupWriter
from tentacle.adapters.lazy_conn import LazyConnection, take_scoped
from tentacle.service.ports import Effect

log = get_logger(__name__)

Conn = Any
"""An asyncpg connection (asyncpg ships no type information)."""

Publisher = Callable[[Sequence[OutboundMessage]], Awaitable[None]]
"""Publishes messages in order and returns once JetStream has them all; raises if not."""

LEASE_S: Final = PUBLISH_LEASE.total_seconds()
"""How long a row written now is its writer's to publish (`next_attempt_at`, a parameter)."""

_FLUSH_AFTER_S: Final = 0.05


class Tx:
    """A unit of work: `conn` for statements, `publish` to send a message if it commits.

    In a single-statement unit (`explicit` False) the caller's one statement must write the
    staged messages itself (`take_staged` / `written_as`); a transaction writes any left at
    commit.
    """

    def __init__(
        self,
        conn: Conn,
        org_id: str | None,
        marks: list[int],
        *,
        explicit: bool,
        group: GroupWriter | None = None,
    ):
        self.conn = conn
        self._group = group
        self.org_id = org_id
        self.explicit = explicit
        self.batch = new_id()
        self.staged: list[OutboundMessage] = []
        self.written: list[tuple[int, OutboundMessage]] = []
        self.effects: list[tuple[Effect, Any]] = []
        """Side effects to journal with the write (the messages they stand for are staged)."""
        self._marks = marks
        self.taken_marks: list[int] = []
        self._leased_at: float | None = None

    async def write(self, query: str, task_id: str, *args: Any) -> Any:
        """The one write of a single-statement unit (its row): grouped with other units'
        writes of `query` into one commit. In a transaction, a statement like any other."""
        self._lease_starts()
        if self.explicit or self._group is None:
            return await self.conn.fetchrow(query, *args)
        return await self._group.fetchrow(self.org_id, query, task_id, *args)

    def _lease_starts(self) -> None:
        # Before the statement is sent: the lease the database computes starts later.
        if self._leased_at is None:
            self._leased_at = time.monotonic()

    def publish_deadline(self) -> float:
        """The monotonic time after which this unit must not start sending its rows: the
        lease's end less the longest a send may take (the relay may have them by then)."""
        leased_at = self._leased_at if self._leased_at is not None else time.monotonic()
        return leased_at + (PUBLISH_LEASE - PUBLISH_ALLOWANCE).total_seconds()

    def publish(self, message: OutboundMessage) -> None:
        self.staged.append(checked_message(message))

    def journal(self, effect: Effect, result: Any) -> None:
        self.effects.append((effect, result))

    def take_staged(self) -> list[OutboundMessage]:
        staged, self.staged = self.staged, []
        return staged

    def written_as(self, ids: Sequence[int], messages: Sequence[OutboundMessage]) -> None:
        self.written.extend(zip(ids, messages, strict=True))

    def take_marks(self) -> list[int]:
        """Ids of rows published earlier and not yet marked: this write marks them."""
        taken = self._marks[:]
        del self._marks[:]
        self.taken_marks.extend(taken)
        return taken

    def forget_writes(self) -> None:
        """The write did not happen (a version conflict): nothing to publish or mark."""
        self.written.clear()
        self._marks.extend(self.taken_marks)
        self.taken_marks.clear()

    async def flush(self) -> None:
        if not self.staged:
            return
        if not self.explicit:
            raise RuntimeError("a single-statement unit must write its messages itself")
        messages = self.take_staged()
        self._lease_starts()
        rows = await self.conn.fetch(OUTBOX_ROWS, *outbox_params(self.batch, messages), LEASE_S)
        self.written_as([r["id"] for r in rows], messages)


class TaskDb:
    def __init__(
        self,
        dsn: Callable[[], str],
        publisher: Publisher,
        *,
        min_size: int = 2,
        max_size: int = 20,
        group_in_flight: int = DEFAULT_IN_FLIGHT,
        statement_timeout_s: float = 30.0,
        idle_in_transaction_timeout_s: float = 60.0,
        application_name: str = "tentacle",
    ) -> None:
        self._dsn = dsn
        self._publisher = publisher
        self._options = {
            "min_size": min_size,
            "max_size": max_size,
            "server_settings": hot_path_settings(
                application_name,
                statement_timeout_s=statement_timeout_s,
                idle_in_transaction_timeout_s=idle_in_transaction_timeout_s,
            ),
        }
        self._pool: Any = None
        self._group_in_flight = group_in_flight
        # Group commit's own connections: a batch is never stuck behind units that hold the
        # main pool's connections while they wait for it.
        self._writer_pool: Any = None
        self._group = GroupWriter(
            lambda: self._writers.acquire(), self._scope, in_flight=group_in_flight
        )
        self._marks: list[int] = []
        self._unmarked = asyncio.Event()
        self._scopes: dict[int, str] = {}
        """The org each connection (by server pid) is scoped to."""

    # ---------------------------------------------------------------- lifecycle
    async def connect(self) -> None:
        if self._pool is None:
            try:
                self._pool = await asyncpg.create_pool(
                    self._dsn(), init=self._init, reset=keep, **self._options
                )
                writers = {
                    **self._options,
                    "min_size": self._group_in_flight,
                    "max_size": self._group_in_flight,
                }
                self._writer_pool = await asyncpg.create_pool(
                    self._dsn(), init=self._init, reset=keep, **writers
                )
            except Exception as exc:
                raise (translate(exc) or DatabaseUnavailable(str(exc))) from exc

    async def close(self, *, timeout: float = 5.0) -> None:
        if self._writer_pool is not None:  # the batches in flight finish first
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._group.close(), timeout)
        pool, self._pool = self._pool, None
        writers, self._writer_pool = self._writer_pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._flush_marks(pool), timeout)
        for each in (writers, pool):
            if each is None:
                continue
            try:
                await asyncio.wait_for(each.close(), timeout)
            except TimeoutError:  # a connection never came back: a stopping service must stop
                each.terminate()

    async def _init(self, conn: Conn) -> None:
        # A new backend may reuse a dead one's pid: it starts unscoped whatever we knew.
        self._scopes.pop(conn.get_server_pid(), None)
        await json_codecs(conn)

    async def _scope(self, conn: Conn, org: str | None) -> None:
        """Scope the connection to `org` (None: platform scope), unless it already is.

        The setting lives on the connection, outside any transaction, so it stays until the
        next user sets another; a new connection starts unscoped and is scoped before use.
        """
        want = org or ""
        pid = conn.get_server_pid()
        if self._scopes.get(pid) == want:
            return
        # A checked subject token (letters, digits, '_' and '-') or empty: safe as a literal.
        await conn.execute(f"SELECT set_config('fluxos.org_id', '{want}', false)")
        self._scopes[pid] = want

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("TaskDb.connect() has not been awaited")
        return self._pool

    @property
    def _writers(self) -> Any:
        if self._writer_pool is None:
            raise RuntimeError("TaskDb.connect() has not been awaited")
        return self._writer_pool

    @property
    def group(self) -> GroupWriter:
        """Group commit of one-statement units' writes (its counters tell the batch sizes)."""
        return self._group

    # ---------------------------------------------------------------- units of work
    # Plain functions handing out the unit itself: a second async generator layer around it
    # cost a few per cent of a replica's CPU (every step runs one unit).
    def transaction(self, *, org_id: str | None = None) -> AbstractAsyncContextManager[Tx]:
        """An explicit transaction: committed when the block ends, rolled back if it raises."""
        return self._unit(org_id, explicit=True)

    def statement(
        self, *, org_id: str | None = None, lazy: bool = False
    ) -> AbstractAsyncContextManager[Tx]:
        """Autocommit: each statement of the block is its own transaction (use one write).

        `lazy`: take the pool connection only at the first statement (`lazy_conn.py`), for a
        block that often runs none (a cycle on a cached state: its write is grouped).
        """
        return self._unit(org_id, explicit=False, lazy=lazy)

    @asynccontextmanager
    async def _unit(
        self, org_id: str | None, *, explicit: bool, lazy: bool = False
    ) -> AsyncIterator[Tx]:
        org = checked_org_id(org_id)
        try:
            if lazy:
                conn = LazyConnection(self.pool, self._scope, org)
            else:
                conn = await take_scoped(self.pool, self._scope, org)
            try:
                tx = Tx(conn, org, self._marks, explicit=explicit, group=self._group)
                if explicit:
                    await conn.execute("BEGIN")
                try:
                    yield tx
                    if explicit:
                        await tx.flush()
                        await conn.execute("COMMIT")
                    elif tx.staged:
                        raise RuntimeError("messages staged but never written")
                except BaseException:
                    tx.forget_writes()
                    if explicit and not conn.is_closed():
                        with contextlib.suppress(Exception):
                            await conn.execute("ROLLBACK")
                    raise
            finally:
                await (conn.release() if lazy else self.pool.release(conn))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            transient = translate(exc)
            if transient is None:
                raise
            raise transient from exc
        if tx.written:
            await self._publish(tx.written, tx.publish_deadline())

    async def _publish(self, written: list[tuple[int, OutboundMessage]], deadline: float) -> None:
        if time.monotonic() >= deadline:  # the relay may be sending them already
            log.warning("outbox.lease_ran_short", messages=len(written))
            await self._release([row_id for row_id, _ in written])
            return
        try:
            await self._publisher([m for _, m in written])
        except Exception as exc:  # committed and safe in the outbox: the relay sends it
            log.warning("outbox.publish_deferred", error=str(exc), messages=len(written))
            await self._release([row_id for row_id, _ in written])
            return
        self._marks.extend(row_id for row_id, _ in written)
        self._unmarked.set()

    async def _release(self, ids: list[int]) -> None:
        """Give the lease on rows this process did not send back: due for the relay now. (Some
        may have reached the stream after all: the relay's copy is dropped as a duplicate.)"""
        try:
            async with self.pool.acquire() as conn:
                await conn.execute(RELEASE, ids)
        except Exception as exc:
            log.warning("outbox.lease_kept", error=str(exc), messages=len(ids))

    # ---------------------------------------------------------------- marking
    async def mark_published(self) -> None:
        """Background: mark what no write has marked shortly after it was published."""
        while True:
            await self._unmarked.wait()
            self._unmarked.clear()
            await asyncio.sleep(_FLUSH_AFTER_S)
            if not self._marks:
                continue
            try:
                await self._flush_marks(self.pool)
            except asyncio.CancelledError:
                raise
            except Exception:  # left for the next round (or the relay, which dedupes)
                log.warning("outbox.mark_failed", exc_info=True)

    async def _flush_marks(self, pool: Any) -> None:
        ids = self._marks[:]
        del self._marks[:]
        if not ids:
            return
        try:
            async with pool.acquire() as conn:
                await conn.execute(MARK, ids)
        except BaseException:
            self._marks.extend(ids)
            raise


def ordered_publisher(publish: Callable[[OutboundMessage], Awaitable[object]]) -> Publisher:
    """Send a unit of work's messages without waiting for each acknowledgement in turn.

    Each publish is started in order (nats-py buffers a message synchronously before awaiting
    its acknowledgement), so they reach the server in staging order on the one connection.
    """

    async def send(messages: Sequence[OutboundMessage]) -> None:
        if len(messages) == 1:
            await publish(messages[0])
            return
        await asyncio.gather(*(publish(m) for m in messages))

    return send
