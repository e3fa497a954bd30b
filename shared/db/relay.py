"""Sweeps the outbox for what was committed but not published, and prunes what was.

Normally a unit of work publishes its own messages right after commit and the relay finds
nothing. It matters when a process died between commit and publish, or NATS was unreachable:
then it publishes the leftovers in id order, never overtaking an earlier message of the same
unit of work, and backs off while publishing fails. Replicas may all run a relay: rows are
claimed with `FOR UPDATE SKIP LOCKED`, so no row is worked by two relays at once.

A message that keeps failing (e.g. a subject no stream accepts) is retried with its own growing
delay and holds back only the later messages of its own unit of work, not the whole outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import func, or_, select, update

from shared.db.database import Database
from shared.db.dedupe import prune_processed
from shared.db.outbox import Publisher, message_of, prune_published
from shared.db.tables import outbox

log = logging.getLogger(__name__)

_MAX_ERROR_TEXT: Final = 500


@dataclass(frozen=True, slots=True)
class SweepResult:
    published: int
    """Rows published and marked by this sweep."""
    held_back: int
    """Rows claimed but left for later: an earlier row of their unit of work was not ours."""
    failed: bool
    """The publisher raised; the sweep stopped there."""
    full: bool
    """The sweep claimed a whole batch: more rows are probably waiting."""


@dataclass(frozen=True, slots=True)
class PruneResult:
    outbox_rows: int
    processed_messages: int


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        publisher: Publisher | None = None,
        *,
        batch_size: int = 100,
        poll_interval: float = 1.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        retention: timedelta = timedelta(days=7),
        processed_retention: timedelta | None = timedelta(days=14),
        prune_interval: float = 600.0,
    ) -> None:
        """`publisher` defaults to the database's own (set by the bus).

        `retention`: how long published rows are kept (for inspection) before pruning.
        `processed_retention`: how long consumer claims are kept, None to leave them alone;
        it must outlast any redelivery window.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not 0 < backoff_initial <= backoff_max:
            raise ValueError("need 0 < backoff_initial <= backoff_max")
        self.db = db
        self._publisher = publisher
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.retention = retention
        self.processed_retention = processed_retention
        self.prune_interval = prune_interval
        self._wake = asyncio.Event()
        self._stopping = False

    @property
    def publisher(self) -> Publisher | None:
        return self._publisher if self._publisher is not None else self.db.publisher

    def wake(self) -> None:
        """Sweep now instead of at the next poll (e.g. after NATS reconnected)."""
        self._wake.set()

    def stop(self) -> None:
        """Let `run()` return once the current sweep has committed.

        Cancelling instead is safe too, but rolls back the marks of a sweep in progress, so its
        messages are sent again (and dropped by JetStream as duplicates).
        """
        self._stopping = True
        self._wake.set()

    def _row_backoff(self, attempts: int) -> float:
        return min(self.backoff_max, self.backoff_initial * 2.0 ** min(attempts, 32))

    async def sweep(self) -> SweepResult:
        """Claim one batch of due rows, publish what order allows, record the outcome."""
        publisher = self.publisher
        if publisher is None:
            raise RuntimeError("the relay has no publisher (set Database.publisher)")
        async with self.db.engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(outbox)
                    .where(
                        outbox.c.published_at.is_(None),
                        or_(
                            outbox.c.next_attempt_at.is_(None),
                            outbox.c.next_attempt_at <= func.now(),
                        ),
                    )
                    .order_by(outbox.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return SweepResult(published=0, held_back=0, failed=False, full=False)
            mine = [row.id for row in rows]
            # For each unit of work, the first unpublished row we did not claim (another
            # publisher holds it, or it is not due yet): ours after it must wait for it.
            first_foreign = dict(
                (
                    await conn.execute(
                        select(outbox.c.batch, func.min(outbox.c.id))
                        .where(
                            outbox.c.published_at.is_(None),
                            outbox.c.batch.in_({row.batch for row in rows}),
                            outbox.c.id.not_in(mine),
                        )
                        .group_by(outbox.c.batch)
                    )
                ).all()
            )
            sent: list[int] = []
            held_back = 0
            failed = False
            for row in rows:
                barrier = first_foreign.get(row.batch)
                if barrier is not None and row.id > barrier:
                    held_back += 1
                    continue
                try:
                    await publisher(message_of(row))
                except Exception as exc:
                    failed = True
                    delay = self._row_backoff(row.attempts)
                    log.warning(
                        "outbox row %s (%s) failed to publish (attempt %d), retry in %.1fs: %s",
                        row.id,
                        row.subject,
                        row.attempts + 1,
                        delay,
                        exc,
                    )
                    await conn.execute(
                        update(outbox)
                        .where(outbox.c.id == row.id)
                        .values(
                            attempts=outbox.c.attempts + 1,
                            last_error=f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_TEXT],
                            next_attempt_at=func.now() + timedelta(seconds=delay),
                        )
                    )
                    # Later rows may belong to the same unit of work; and a publisher that just
                    # failed is likely to fail again, so the sweep ends here.
                    break
                sent.append(row.id)
            if sent:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(sent))
                    .values(published_at=func.now(), last_error=None)
                )
        return SweepResult(
            published=len(sent),
            held_back=held_back,
            failed=failed,
            full=len(rows) == self.batch_size,
        )

    async def drain(self) -> int:
        """Sweep until nothing due is left or publishing fails; how many rows were published."""
        total = 0
        while True:
            result = await self.sweep()
            total += result.published
            if result.failed or result.published == 0:
                return total

    async def prune(self) -> PruneResult:
        outbox_rows = await prune_published(self.db.engine, self.retention)
        processed = 0
        if self.processed_retention is not None:
            processed = await prune_processed(self.db.engine, self.processed_retention)
        if outbox_rows or processed:
            log.info("pruned %d outbox rows and %d consumer claims", outbox_rows, processed)
        return PruneResult(outbox_rows=outbox_rows, processed_messages=processed)

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def run(self) -> None:
        """Sweep and prune until stopped or cancelled; errors only make it back off."""
        self._stopping = False
        backoff = self.backoff_initial
        next_prune = time.monotonic()
        while not self._stopping:
            if time.monotonic() >= next_prune:
                try:
                    await self.prune()
                except Exception:
                    log.warning("outbox pruning failed; will try again", exc_info=True)
                next_prune = time.monotonic() + self.prune_interval
            try:
                result = await self.sweep()
            except Exception:
                log.warning("outbox sweep failed", exc_info=True)
                result = None
            if result is None or (result.failed and result.published == 0):
                # Jitter spreads replicas out so they do not all hit a recovering NATS at once.
                delay = backoff * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security
                backoff = min(backoff * 2, self.backoff_max)
            else:
                backoff = self.backoff_initial
                delay = 0.0 if result.full and result.published else self.poll_interval
            if not self._stopping:
                await self._pause(delay)
