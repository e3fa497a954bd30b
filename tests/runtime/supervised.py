"""Running the real `fluxos` CLI against a temporary home, with fake services, for tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

from shared.runtime.home import HomeLayout
from shared.runtime.services import PLATFORM_SERVICES
from shared.runtime.state import Phase, RuntimeState, read_state

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
FAKE = "tests.runtime.fake_service"
_OWN_PREFIXES = ("FLUXOS_", *(f"{name.upper()}_" for name in PLATFORM_SERVICES))


def fakes(**options: str) -> dict[str, str]:
    """Every platform service played by the fake; `options` adds flags per service name."""
    return {name: f"{FAKE} {name} {options.get(name, '')}".strip() for name in PLATFORM_SERVICES}


def cli_env(home: Path, services: Mapping[str, str], **extra: str) -> dict[str, str]:
    """An environment for `fluxos`: nothing inherited from the caller's FLUXOS_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "FLUXOS_HOME": str(home),
            "FLUXOS_SUPERVISOR_SERVICES": json.dumps(dict(services)),
            # Tests run side by side: any free port, never the well-known ones.
            "FLUXOS_SUPERVISOR_NATS_PORT": "0",
            "FLUXOS_SUPERVISOR_POSTGRES_PORT": "0",
            "FLUXOS_SUPERVISOR_POSTGRES_FSYNC": "false",
            "FLUXOS_SUPERVISOR_RESTART_INITIAL_DELAY": "0.1",
            "FLUXOS_SUPERVISOR_STOP_GRACE_SECONDS": "5",
            "FLUXOS_SUPERVISOR_PROBE_INTERVAL": "0.05",
            "INBOX_HTTP_PORT": "0",
            "MIMIC_HTTP_PORT": "0",
            "DEN_HTTP_PORT": "0",
        }
    )
    env.update(extra)
    return env


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def fluxos(
    *args: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_all_gone(procs: list[psutil.Process], *, timeout: float = 15) -> None:
    wait_for(
        lambda: not [p for p in procs if alive(p)],
        timeout=timeout,
        what=f"processes to exit: {[(p.pid, _name(p)) for p in procs if alive(p)]}",
    )


def _name(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())[:80]
    except psutil.Error:
        return "?"


def fake_starts(home: Path, service: str) -> list[dict[str, Any]]:
    """One record per start of the fake playing `service`."""
    path = home / "fake" / f"{service}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@dataclass
class Foreground:
    """`fluxos up` in the foreground, as a user runs it, with its output captured."""

    home: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.output = self.home.parent / f"{self.home.name}-up.out"
        with self.output.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "up"],
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def layout(self) -> HomeLayout:
        return HomeLayout.at(self.home)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def state(self) -> RuntimeState | None:
        return read_state(self.layout.state_path)

    def wait_state(
        self, condition: Callable[[RuntimeState], bool], *, timeout: float = 30, what: str
    ) -> RuntimeState:
        def check() -> RuntimeState | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"fluxos up exited ({self.proc.returncode}):\n{self.text()}")
            state = self.state()
            return state if state is not None and condition(state) else None

        return wait_for(check, timeout=timeout, what=what)

    def ready(self, timeout: float = 30) -> RuntimeState:
        return self.wait_state(lambda s: s.phase is Phase.READY, timeout=timeout, what="ready")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def stop(self, *, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
