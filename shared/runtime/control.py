"""Finding, starting in the background and stopping a platform from another process.

Used by `fluxos up --detach`, `fluxos down` and `fluxos status`. The home's lock says whether a
supervisor is alive; `state.json` says what it runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.runtime.children import is_alive, kill_group
from shared.runtime.home import HomeLayout
from shared.runtime.lock import holder_pid, is_held
from shared.runtime.process import tail
from shared.runtime.state import Phase, ProcessRef, RuntimeState, ServiceStatus, read_state

_POLL_SECONDS = 0.1


def running_platform(layout: HomeLayout) -> RuntimeState | None:
    """The state of the supervisor running on this home, or None if none is."""
    if not is_held(layout.lock_path):
        return None
    return read_state(layout.state_path)


# ------------------------------------------------------------------------------------ detach
class DetachError(RuntimeError):
    """The background platform did not become ready; the message says why."""


def spawn_detached(layout: HomeLayout, up_args: Sequence[str]) -> subprocess.Popen[bytes]:
    """Run `fluxos up` in the background: own session, no terminal, output to supervisor.log."""
    layout.create()
    log = layout.supervisor_log.open("ab")
    try:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"--- fluxos up --detach ({stamp}) ---\n".encode())
        log.flush()
        # No parent-death signal here: outliving this command is the point.
        return subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "up", "--home", str(layout.root), *up_args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        log.close()


def wait_ready(
    layout: HomeLayout, proc: subprocess.Popen[bytes], *, timeout: float
) -> RuntimeState:
    """Block until the supervisor `proc` reports ready; `DetachError` if it fails or stalls."""
    deadline = time.monotonic() + timeout
    while True:
        exited = proc.poll() is not None
        state = read_state(layout.state_path)
        ours = state if state is not None and state.supervisor.pid == proc.pid else None
        if ours is not None and ours.phase is Phase.READY:
            return ours
        if exited or (ours is not None and ours.phase is Phase.FAILED):
            reason = ours.error if ours is not None and ours.error else None
            raise DetachError(reason or tail(layout.supervisor_log, 15) or "it exited")
        if time.monotonic() > deadline:
            raise DetachError(_pending(ours) or f"not ready after {timeout:g}s")
        time.sleep(_POLL_SECONDS)


def _pending(state: RuntimeState | None) -> str:
    if state is None:
        return ""
    waiting = [
        f"{name} ({s.status})"
        for name, s in state.services.items()
        if s.status is not ServiceStatus.RUNNING
    ]
    return "still waiting for " + ", ".join(waiting) if waiting else ""


# -------------------------------------------------------------------------------------- stop
@dataclass(frozen=True)
class StopResult:
    was_running: bool
    forced: bool = False
    """The supervisor had to be killed (it did not stop within the timeout)."""


def stop_platform(layout: HomeLayout, *, timeout: float = 60.0) -> StopResult:
    """Ask the supervisor to stop and wait until it and every process it ran are gone."""
    state = read_state(layout.state_path)
    if not is_held(layout.lock_path):
        # Nothing runs the platform; clear out anything a killed supervisor left behind.
        if state is not None:
            _kill_all(state.children())
        return StopResult(was_running=False)
    pid = holder_pid(layout.lock_path) or (state.supervisor.pid if state else None)
    if pid is None:
        raise RuntimeError(f"{layout.lock_path} is locked but names no process")
    seen: dict[int, ProcessRef] = {}
    _remember(seen, state)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    # Our children were asked to stop by the supervisor; the lock goes when it has exited.
    while is_held(layout.lock_path) or any(is_alive(ref) for ref in seen.values()):
        _remember(seen, read_state(layout.state_path))
        if time.monotonic() > deadline:
            # Killing the supervisor makes its children's parent-death signal fire; whatever
            # still lingers after that gets SIGKILL too.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _kill_all(list(seen.values()))
            return StopResult(was_running=True, forced=True)
        time.sleep(_POLL_SECONDS)
    return StopResult(was_running=True)


def _remember(seen: dict[int, ProcessRef], state: RuntimeState | None) -> None:
    if state is not None:
        for ref in state.children():
            seen.setdefault(ref.pid, ref)


def _kill_all(refs: Sequence[ProcessRef]) -> None:
    """SIGKILL the supervisor's children, each with its process group (they lead their own)."""
    for ref in refs:
        if is_alive(ref):
            kill_group(ref.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(ref.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while any(is_alive(ref) for ref in refs) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
