"""A small SSE reader over httpx for tests: events with their ids, and comment lines counted."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Event:
    id: str
    event: str
    data: dict[str, Any]

    @property
    def seq(self) -> int:
        return int(self.data["seq"])


@dataclass
class SseClient:
    http: httpx.AsyncClient
    last_event_id: str | None = None
    path: str = "/api/v1/stream"
    events: list[Event] = field(default_factory=list)
    comments: int = 0
    status: int | None = None
    error: dict[str, Any] | None = None
    _task: asyncio.Task[None] | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def open(self) -> None:
        opened = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(opened))
        await asyncio.wait_for(opened, 20)

    async def _run(self, opened: asyncio.Future[None]) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        try:
            async with self.http.stream("GET", self.path, headers=headers) as response:
                self.status = response.status_code
                if response.status_code != 200:
                    self.error = json.loads(await response.aread())["error"]
                    opened.set_result(None)
                    return
                opened.set_result(None)
                async for event in _parse(response.aiter_lines()):
                    async with self._arrived:
                        if event is None:
                            self.comments += 1
                        else:
                            self.events.append(event)
                            if event.id:  # transient events (a reply's tokens) carry none
                                self.last_event_id = event.id
                        self._arrived.notify_all()
        except Exception as exc:
            if not opened.done():
                opened.set_exception(exc)

    async def wait(self, predicate: Any, timeout: float = 30.0) -> list[Event]:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: predicate(self.events)), timeout)
        return list(self.events)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


async def _parse(lines: AsyncIterator[str]) -> AsyncIterator[Event | None]:
    event_id, name = "", "message"
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                yield Event(event_id, name, json.loads("\n".join(data)))
            event_id, name, data = "", "message", []
        elif line.startswith(":"):
            yield None
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def contiguous(events: list[Event]) -> bool:
    seqs = [e.seq for e in events]
    return seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
