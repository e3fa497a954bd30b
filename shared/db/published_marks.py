"""Marking outbox rows published: many units of work per UPDATE, off their callers' path.

After commit a unit of work publishes its leased rows and hands their ids here; one flush at a
time writes every id collected so far, so under load one statement serves many transactions and
no caller waits for it. A mark that never lands (a crash, the database away) costs a duplicate
send, not a lost message: the relay sends the row again after its lease and JetStream drops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.tables import outbox

log = logging.getLogger(__name__)


class PublishedMarks:
    def __init__(self, engine: Callable[[], AsyncEngine]) -> None:
        self._engine = engine
        self._pending: list[int] = []
        self._flushing: asyncio.Task[None] | None = None

    def add(self, ids: Sequence[int]) -> None:
        """Mark `ids` published soon; returns at once."""
        if not ids:
            return
        self._pending.extend(ids)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name="outbox-published-marks")

    async def release(self, ids: Sequence[int]) -> None:
        """Give up the lease on rows this process will not publish: due for the relay now."""
        if not ids:
            return
        try:
            async with self._engine().begin() as conn:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(ids), outbox.c.published_at.is_(None))
                    .values(next_attempt_at=None)
                )
        except Exception as exc:
            log.warning("outbox lease not given back (the relay waits it out): %s", exc)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for what was added to be written (at most `timeout` seconds)."""
        while self._flushing is not None and not self._flushing.done():
            _, pending = await asyncio.wait({self._flushing}, timeout=timeout)
            if pending:
                log.warning("outbox marks not written within %.1fs; the relay resends", timeout)
                return

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def _flush(self) -> None:
        while self._pending:
            ids, self._pending = self._pending, []
            try:
                async with self._engine().begin() as conn:
                    await conn.execute(
                        update(outbox)
                        .where(outbox.c.id.in_(ids))
                        .values(published_at=func.now(), last_error=None)
                    )
            except Exception as exc:
                log.warning(
                    "%d outbox rows sent but not marked; the relay resends them after their "
                    "lease and JetStream drops the copies: %s",
                    len(ids),
                    exc,
                )
