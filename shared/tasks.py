"""Ending background tasks for sure, even when one cancellation is lost."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.logging import get_logger

log = get_logger(__name__)

_RECANCEL_EVERY_S = 0.1


async def cancel_and_wait(task: asyncio.Task[Any], *, timeout: float = 2.0) -> bool:
    """Cancel `task` and wait, at most `timeout` seconds, for it to end; True if it ended.

    One `cancel()` is not always enough on Python 3.11: `asyncio.wait_for` (which nats-py's
    `next_msg` and `fetch` use) swallows a cancellation that races with its inner future
    completing (CPython gh-86296), and a fetch loop that lost its cancel just fetches again. So
    the cancel is repeated until the task ends or the deadline passes, and the wait never hangs.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.warning("task.cancel_ignored", task=task.get_name(), timeout_s=timeout)
            return False
        task.cancel()
        await asyncio.wait({task}, timeout=min(remaining, _RECANCEL_EVERY_S))
    if not task.cancelled() and task.exception() is not None:
        log.debug("task.ended_with_error", task=task.get_name(), error=repr(task.exception()))
    return True
