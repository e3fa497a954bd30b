"""Tentacle's own connection pool (asyncpg) and unit of work on its service database.

Why not `shared.db.Database` here: an orchestration cycle is a handful of statements, and at a
thousand steps a second SQLAlchemy's per-statement cost and the extra round trips of its
unit of work (pool pre-ping, separate BEGIN and org setting, a second transaction to mark the
outbox) were most of a step's time. This unit of work keeps the same rules:

* one transaction per message, scoped to the organisation for row-level security (the org id
  is a validated subject token, set with `set_config(..., true)` in the BEGIN round trip);
* messages are written to the shared outbox table (`fluxos_outbox`) in the same transaction and
  published right after commit, in staging order, with `Nats-Msg-Id` for JetStream dedupe;
* whatever is not published (a crash after commit, NATS down) is left to the shared outbox
  relay, which sweeps the same table; rows are marked published in batches in the background,
  and a row published twice (the relay racing the marker) is dropped by JetStream's dedupe and
  by consumers' message-id claims.

Transient database failures surface as `shared.db` errors (DatabaseUnavailable, ...), so the
consumers' one retry owner handles them as everywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

import asyncpg

from contracts.ids import new_id
from shared.bus.codec import OutboundMessage
from shared.db.errors import DatabaseUnavailable, translate
from shared.db.outbox import checked_message
from shared.db.rls import checked_org_id
from shared.logging import get_logger

log = get_logger(__name__)

Conn = Any
"""An asyncpg connection (asyncpg ships no type information)."""

Publisher = Callable[[Sequence[OutboundMessage]], Awaitable[None]]
"""Publishes messages in order and returns once JetStream has them all; raises if not."""

_WRITE_OUTBOX: Final = """
    INSERT INTO fluxos_outbox (batch, subject, headers, body, message_id)
    SELECT $1::uuid, u.subject, u.headers::jsonb, u.body, u.message_id
      FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[])
           WITH ORDINALITY AS u(subject, headers, body, message_id, n)
     ORDER BY u.n
    RETURNING id
"""
_MARK_EVERY_S: Final = 0.02
_MARK_BATCH: Final = 2000


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


async def _init(conn: Conn) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=_dumps, decoder=json.loads, schema="pg_catalog")


def outbox_params(batch: str, messages: Sequence[OutboundMessage]) -> tuple[Any, ...]:
    return (
        batch,
        [m.subject for m in messages],
        [_dumps(m.headers) for m in messages],
        [m.body for m in messages],
        [m.message_id for m in messages],
    )


class Tx:
    """One transaction: `conn` for statements, `publish` to send a message if it commits."""

    def __init__(self, conn: Conn, org_id: str | None) -> None:
        self.conn = conn
        self.org_id = org_id
        self.batch = new_id()
        self.staged: list[OutboundMessage] = []
        self.written: list[tuple[int, OutboundMessage]] = []

    def publish(self, message: OutboundMessage) -> None:
        self.staged.append(checked_message(message))

    def take_staged(self) -> list[OutboundMessage]:
        """Staged messages not yet written, for a caller that writes them in its own statement
        (it then reports their ids with `written_as`)."""
        staged, self.staged = self.staged, []
        return staged

    def written_as(self, ids: Sequence[int], messages: Sequence[OutboundMessage]) -> None:
        self.written.extend(zip(ids, messages, strict=True))

    async def flush(self) -> None:
        if not self.staged:
            return
        messages = self.take_staged()
        ids = [
            r["id"]
            for r in await self.conn.fetch(_WRITE_OUTBOX, *outbox_params(self.batch, messages))
        ]
        self.written_as(ids, messages)


class TaskDb:
    def __init__(
        self,
        dsn: Callable[[], str],
        publisher: Publisher,
        *,
        min_size: int = 2,
        max_size: int = 20,
        statement_timeout_s: float = 30.0,
        idle_in_transaction_timeout_s: float = 60.0,
        application_name: str = "tentacle",
    ) -> None:
        self._dsn = dsn
        self._publisher = publisher
        self._options = {
            "min_size": min_size,
            "max_size": max_size,
            "server_settings": {
                "application_name": application_name[:63],
                "statement_timeout": str(int(statement_timeout_s * 1000)),
                "idle_in_transaction_session_timeout": str(
                    int(idle_in_transaction_timeout_s * 1000)
                ),
            },
        }
        self._pool: Any = None
        self._marks: list[int] = []
        self._marked = asyncio.Event()

    # ---------------------------------------------------------------- lifecycle
    async def connect(self) -> None:
        if self._pool is None:
            try:
                self._pool = await asyncpg.create_pool(self._dsn(), init=_init, **self._options)
            except Exception as exc:
                raise (translate(exc) or DatabaseUnavailable(str(exc))) from exc

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                await self._mark_now(pool)
            await pool.close()

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("TaskDb.connect() has not been awaited")
        return self._pool

    # ---------------------------------------------------------------- transactions
    @asynccontextmanager
    async def transaction(self, *, org_id: str | None = None) -> AsyncIterator[Tx]:
        org = checked_org_id(org_id)
        begin = "BEGIN"
        if org is not None:  # a checked subject token: letters, digits, '_' and '-' only
            begin = f"BEGIN; SELECT set_config('fluxos.org_id', '{org}', true)"
        try:
            async with self.pool.acquire() as conn:
                await conn.execute(begin)
                tx = Tx(conn, org)
                try:
                    yield tx
                    await tx.flush()
                    await conn.execute("COMMIT")
                except BaseException:
                    if not conn.is_closed():
                        with contextlib.suppress(Exception):
                            await conn.execute("ROLLBACK")
                    raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            transient = translate(exc)
            if transient is None:
                raise
            raise transient from exc
        if tx.written:
            await self._publish(tx.written)

    async def _publish(self, written: list[tuple[int, OutboundMessage]]) -> None:
        try:
            await self._publisher([m for _, m in written])
        except Exception as exc:  # committed and safe in the outbox: the relay sends it
            log.warning("outbox.publish_deferred", error=str(exc), messages=len(written))
            return
        self._marks.extend(row_id for row_id, _ in written)
        self._marked.set()

    # ---------------------------------------------------------------- marking
    async def mark_published(self) -> None:
        """Background: record what was published, many rows per statement."""
        while True:
            await self._marked.wait()
            self._marked.clear()
            await asyncio.sleep(_MARK_EVERY_S)
            try:
                await self._mark_now(self.pool)
            except asyncio.CancelledError:
                raise
            except Exception:  # unmarked rows are republished by the relay and deduped
                log.warning("outbox.mark_failed", exc_info=True)

    async def _mark_now(self, pool: Any) -> None:
        while self._marks:
            ids, self._marks = self._marks[:_MARK_BATCH], self._marks[_MARK_BATCH:]
            listed = ",".join(str(int(i)) for i in ids)  # integers from our own RETURNING
            async with pool.acquire() as conn:
                try:
                    # Losing this write in a crash only means a duplicate publish (deduped),
                    # so it need not wait for the WAL flush.
                    statement = (
                        "BEGIN; SET LOCAL synchronous_commit = off;"  # noqa: S608
                        " UPDATE fluxos_outbox SET published_at = now(), last_error = NULL"
                        f" WHERE id IN ({listed}) AND published_at IS NULL; COMMIT"
                    )
                    await conn.execute(statement)
                except BaseException:
                    if not conn.is_closed():
                        with contextlib.suppress(Exception):
                            await conn.execute("ROLLBACK")
                    raise


def ordered_publisher(publish: Callable[[OutboundMessage], Awaitable[object]]) -> Publisher:
    """Send a transaction's messages without waiting for each acknowledgement in turn.

    Each publish is started in order (nats-py buffers a message synchronously before awaiting
    its acknowledgement), so they reach the server in staging order on the one connection.
    """

    async def send(messages: Sequence[OutboundMessage]) -> None:
        if len(messages) == 1:
            await publish(messages[0])
            return
        await asyncio.gather(*(publish(m) for m in messages))

    return send
