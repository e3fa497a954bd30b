"""Run a coroutine at once, in the caller, until it first has to wait.

Python 3.12's eager tasks do this; 3.11 has none. The live fan-out needs it: writing one entry
to a thousand streams through their ASGI `send` should cost a thousand calls, not a thousand
task wake-ups, yet a client whose socket is full must not hold up the others. So the write is
started here; nearly always the transport takes the bytes and the coroutine finishes before
this returns. If it has to wait (the transport is paused), a task carries on from exactly where
it stopped, and the caller gets that task to wait on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


def run_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """None if `coro` ran to its end here; else the task that finishes it. Raises what `coro`
    raised before its first wait."""
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_carry_on(coro, waiting_on))


async def _carry_on(coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    await _Resumed(coro, waiting_on)


class _Resumed:
    """What `yield from` would do for a coroutine already started: hand the task what the
    coroutine waits on (a future, or None for a bare yield) and pass back what the task sends
    or throws, until the coroutine returns."""

    def __init__(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coro, waiting_on = self._coro, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation included: the coroutine decides
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = coro.send(sent)
                except StopIteration:
                    return
