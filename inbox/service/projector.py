"""Group commit for the projection: events delivered together are projected together.

The durable consumer hands each event to `submit`, which returns once the event's transaction
has committed (so its delivery is acknowledged only then). Up to `parallel` transactions run at
once; an event submitted while all are busy waits for the next one free, and each transaction
takes all that are waiting (up to `max_batch`), one organisation's at a time: under load, one
commit and one bump of the feed's head serve many events; when idle, an event is projected at
once on its own. Transactions running together wait for each other only where they share rows
(a conversation, the feed's head), taken in one order (see `inbox.service.project`).

A batch that fails is projected again one event at a time, so one bad event fails alone (its
delivery is retried or dead-lettered) and the others are acknowledged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from contracts.tentacle.events import TaskEventV1
from shared.logging import get_logger

log = get_logger(__name__)

ProjectBatch = Callable[[Sequence[TaskEventV1]], Awaitable[None]]


@dataclass(eq=False, slots=True)
class _Waiting:
    event: TaskEventV1
    done: asyncio.Future[None]


class Projector:
    def __init__(
        self, project_batch: ProjectBatch, *, max_batch: int = 64, parallel: int = 2
    ) -> None:
        self._project_batch = project_batch
        self._max_batch = max_batch
        self._parallel = parallel
        self._waiting: list[_Waiting] = []
        self._drains: set[asyncio.Task[None]] = set()
        self.batches = 0

    async def submit(self, event: TaskEventV1) -> None:
        """Project `event`; returns after its commit, raises what its projection raised."""
        waiting = _Waiting(event, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if len(self._drains) < self._parallel:
            drain = asyncio.create_task(self._run(), name="inbox-projector")
            self._drains.add(drain)  # referenced until done: the loop keeps weak references
            drain.add_done_callback(self._drains.discard)
        await waiting.done

    async def _run(self) -> None:
        while self._waiting:
            batch = self._take()
            await self._project(batch)

    def _take(self) -> list[_Waiting]:
        # One organisation's events per transaction (its rows are behind its row-level
        # security); the oldest waiting event's organisation goes first.
        org = self._waiting[0].event.org_id
        batch: list[_Waiting] = []
        rest: list[_Waiting] = []
        for waiting in self._waiting:
            if waiting.event.org_id == org and len(batch) < self._max_batch:
                batch.append(waiting)
            else:
                rest.append(waiting)
        self._waiting = rest
        return batch

    async def _project(self, batch: list[_Waiting]) -> None:
        live = [w for w in batch if not w.done.done()]  # a cancelled delivery was handed back
        if not live:
            return
        try:
            await self._project_batch([w.event for w in live])
            self.batches += 1
        except Exception as exc:
            if len(live) == 1:
                _settle(live[0], exc)
                return
            log.warning("inbox.projection_batch_failed", size=len(live), error=str(exc))
            for waiting in live:
                try:
                    await self._project_batch([waiting.event])
                except Exception as alone:
                    _settle(waiting, alone)
                else:
                    _settle(waiting, None)
            return
        for waiting in live:
            _settle(waiting, None)


def _settle(waiting: _Waiting, error: Exception | None) -> None:
    if waiting.done.done():
        return
    if error is None:
        waiting.done.set_result(None)
    else:
        waiting.done.set_exception(error)
