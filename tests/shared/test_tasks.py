"""cancel_and_wait ends tasks that lose a cancellation, and never waits past its deadline."""

from __future__ import annotations

import asyncio
import time

from shared.tasks import cancel_and_wait


async def test_a_task_that_swallows_one_cancel_still_ends() -> None:
    swallowed = 0

    async def fetch_loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed == 0:  # as asyncio.wait_for on 3.11 may when racing a result
                    swallowed += 1
                    continue
                raise

    task = asyncio.create_task(fetch_loop())
    await asyncio.sleep(0)
    assert await cancel_and_wait(task, timeout=5) is True
    assert task.cancelled()
    assert swallowed == 1


async def test_a_task_that_never_ends_is_given_up_on_at_the_deadline() -> None:
    give_up = False

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if give_up:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await cancel_and_wait(task, timeout=0.5) is False
    assert time.monotonic() - started < 2
    assert not task.done()
    give_up = True
    assert await cancel_and_wait(task) is True


async def test_a_finished_task_is_left_alone() -> None:
    async def quick() -> None:
        return None

    task = asyncio.create_task(quick())
    await task
    assert await cancel_and_wait(task) is True
