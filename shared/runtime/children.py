"""Waiting on and ending child processes from asyncio, without threads or busy polling.

A pidfd becomes readable the moment its process exits, so the event loop learns of a crash at
once and the supervisor costs nothing while all is well. Where pidfds are missing (old kernels,
other systems) we fall back to polling.

Children must be spawned from the event loop's thread: the parent-death signal fires when the
*thread* that forked a child ends, so a child started from a worker thread would be killed when
that thread retires.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterable

import psutil

from shared.runtime.state import ProcessRef

_POLL_SECONDS = 0.1


async def wait_exit(pid: int, running: Callable[[], bool]) -> None:
    """Return once process `pid` (our child) has exited; `running` reaps and reports it."""
    if not running():
        return
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        while running():  # noqa: ASYNC110 - without a pidfd there is nothing to wait on
            await asyncio.sleep(_POLL_SECONDS)
        return
    loop = asyncio.get_running_loop()
    exited = loop.create_future()

    def on_readable() -> None:
        if not exited.done():
            exited.set_result(None)

    try:
        loop.add_reader(fd, on_readable)
        try:
            await exited
        finally:
            loop.remove_reader(fd)
    finally:
        os.close(fd)
    running()  # reap it, so its exit code is known and no zombie is left


async def wait_popen(proc: subprocess.Popen[bytes]) -> int:
    await wait_exit(proc.pid, lambda: proc.poll() is None)
    code = proc.poll()
    assert code is not None
    return code


async def terminate(procs: Iterable[subprocess.Popen[bytes]], *, grace: float) -> None:
    """SIGTERM each, SIGKILL (whole process group) whatever is left after `grace` seconds."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    waits = [asyncio.ensure_future(wait_popen(p)) for p in procs]
    if waits:
        _, late = await asyncio.wait(waits, timeout=grace)
        if late:
            for proc in procs:
                if proc.poll() is None:
                    kill_group(proc.pid)
            await asyncio.gather(*late)
    for proc in procs:
        # A child's own children live in its process group; none may outlive it.
        kill_group(proc.pid)


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def process_ref(pid: int) -> ProcessRef:
    try:
        created = psutil.Process(pid).create_time()
    except psutil.Error:
        created = 0.0
    return ProcessRef(pid=pid, create_time=created)


def is_alive(ref: ProcessRef) -> bool:
    """Whether the process `ref` names still runs (a zombie has finished running)."""
    try:
        proc = psutil.Process(ref.pid)
        if ref.create_time and abs(proc.create_time() - ref.create_time) > 0.01:
            return False  # the pid was recycled
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
