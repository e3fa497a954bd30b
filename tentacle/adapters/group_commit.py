"""Group commit: one-statement cycle writes that are ready together share one transaction.

Why: with durable commits every cycle's write cost PostgreSQL a commit (a WAL flush) and a
round trip of its own. Under load many step results arrive at once; their writes are sent as
one pipelined batch (asyncpg `fetchmany`: every statement bound and executed before a single
Sync, so one round trip, one implicit transaction, one commit).

What does not change:

* each write checks its own task's version: a conflict is an `applied = false` row for that
  write alone, not an error, so the batch's other writes commit. Two writes of one task in a
  batch serialise as two transactions would (the second sees the first's update and loses);
* a batch is atomic. If any statement fails (an error, not a conflict) nothing is applied, and
  every write of the batch is then run alone, so only the failing one reports the failure;
* the caller learns of its write only once the batch has committed, and publishes after that;
* writes are grouped by organisation: the connection is scoped to one for row-level security;
* writes are sent in task-id order, so two batches in flight take the rows they share in one
  order and never wait on each other in a cycle.

There is no timer: a write waits only while the batches already in flight finish, so a lone
write (light load) is sent at once, and batches grow by themselves as the load rises. A write
that finds nothing in flight is sent by its own caller (no hand-over to a drainer task, which
cost a step of the event loop on every step of a lone task).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Final

Conn = Any
"""An asyncpg connection (asyncpg ships no type information)."""

Acquire = Callable[[], AbstractAsyncContextManager[Conn]]
Scope = Callable[[Conn, str | None], Awaitable[None]]

DEFAULT_IN_FLIGHT: Final = 1
DEFAULT_MAX_BATCH: Final = 64


@dataclass(slots=True)
class _Write:
    order: str
    args: Sequence[Any]
    done: asyncio.Future[Any] = field(repr=False)


class GroupWriter:
    """Runs single-row statements (`fetchrow`), batching those queued at the same time.

    `in_flight` batches run at once (each on its own connection from `acquire`); while they
    run, the next batch fills. `max_batch` bounds a batch (and so how long its locks are held).
    """

    def __init__(
        self,
        acquire: Acquire,
        scope: Scope,
        *,
        in_flight: int = DEFAULT_IN_FLIGHT,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        if in_flight < 1 or max_batch < 1:
            raise ValueError("in_flight and max_batch must be at least 1")
        self._acquire = acquire
        self._scope = scope
        self._in_flight = in_flight
        self._max_batch = max_batch
        self._queued: dict[tuple[str | None, str], list[_Write]] = {}
        self._draining = 0
        """Drainers running: counted down by the drainer itself in the step in which it sees
        the queue empty (a task's done callback runs later, and a write queued in between
        would find no drainer and wait for ever)."""
        self._drainers: set[asyncio.Task[None]] = set()
        self.batches = 0
        """Batches sent so far (with `writes`, how well writes are grouped)."""
        self.writes = 0

    async def fetchrow(self, org_id: str | None, query: str, order: str, *args: Any) -> Any:
        """The row `query` returns, once the batch it went out in has committed.

        `order`: where the write goes in its batch (the task id it writes).
        """
        loop = asyncio.get_running_loop()
        if not self._draining and not self._queued:
            return await self._write_alone(loop, org_id, query, args)
        done: asyncio.Future[Any] = loop.create_future()
        self._queued.setdefault((org_id, query), []).append(_Write(order, args, done))
        if self._draining < self._in_flight:
            self._start_drainer(loop)
        # If this caller is cancelled the batch still goes out and the write may commit, as a
        # cancelled statement could before: the outbox relay publishes what it staged.
        return await done

    async def _write_alone(
        self, loop: asyncio.AbstractEventLoop, org_id: str | None, query: str, args: Sequence[Any]
    ) -> Any:
        """Nothing in flight: the caller sends its write itself, counted as a drainer, so writes
        arriving meanwhile queue up and go out together once it is done."""
        self._draining += 1
        try:
            async with self._acquire() as conn:
                await self._scope(conn, org_id)
                row = await conn.fetchrow(query, *args)
            self.batches += 1
            self.writes += 1
            return row
        finally:
            self._draining -= 1
            if self._queued and self._draining < self._in_flight:
                self._start_drainer(loop)

    def _start_drainer(self, loop: asyncio.AbstractEventLoop) -> None:
        self._draining += 1
        task = loop.create_task(self._drain())
        self._drainers.add(task)  # referenced until done: the loop keeps weak references
        task.add_done_callback(self._drainers.discard)

    async def close(self) -> None:
        """Wait for the batches in flight (their callers are owed an answer)."""
        if self._drainers:
            await asyncio.gather(*self._drainers, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._queued:
                key, queued = next(iter(self._queued.items()))
                batch, rest = queued[: self._max_batch], queued[self._max_batch :]
                if rest:
                    self._queued[key] = rest
                else:
                    del self._queued[key]
                # Round-robin between organisations: a busy one's backlog goes to the back.
                if rest and len(self._queued) > 1:
                    self._queued[key] = self._queued.pop(key)
                await self._run(key, batch)
        except asyncio.CancelledError:
            self._draining -= 1
            raise
        except BaseException:
            self._draining -= 1
            if self._queued:  # never leave queued writes without a drainer
                self._start_drainer(asyncio.get_running_loop())
            raise
        else:
            self._draining -= 1

    async def _run(self, key: tuple[str | None, str], batch: list[_Write]) -> None:
        org_id, query = key
        batch.sort(key=lambda w: w.order)  # stable: one task's writes keep their order
        try:
            async with self._acquire() as conn:
                await self._scope(conn, org_id)
                if len(batch) == 1:
                    rows = [await conn.fetchrow(query, *batch[0].args)]
                else:
                    rows = await conn.fetchmany(query, [w.args for w in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0].done, exc=exc)
                return
            # Nothing of the batch was applied: each write again on its own, so one bad
            # write (or a deadlock with another replica) fails only itself.
            for write in batch:
                await self._run(key, [write])
            return
        except BaseException as exc:  # cancelled (stopping): the callers must not wait forever
            for write in batch:
                _settle(write.done, exc=exc)
            raise
        if len(rows) != len(batch):
            error = RuntimeError(f"a batch of {len(batch)} writes returned {len(rows)} rows")
            for write in batch:
                _settle(write.done, exc=error)
            return
        self.batches += 1
        self.writes += len(batch)
        for write, row in zip(batch, rows, strict=True):
            _settle(write.done, row=row)


def _settle(
    done: asyncio.Future[Any], *, row: Any = None, exc: BaseException | None = None
) -> None:
    if done.done():  # its caller gave up (cancelled): nobody is waiting
        return
    if exc is None:
        done.set_result(row)
    elif isinstance(exc, asyncio.CancelledError):
        done.cancel()
    else:
        done.set_exception(exc)
        # Retrieved by the caller; if it has gone, do not log "exception never retrieved".
        with contextlib.suppress(BaseException):
            done.exception()
