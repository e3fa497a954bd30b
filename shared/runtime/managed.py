"""A process the supervisor keeps alive: started, watched, restarted with backoff when it exits.

Two kinds: a service (`python -m <service>`, spawned here) and an embedded server (NATS or
PostgreSQL, which start themselves and block until they listen). Both run their watch loop as an
asyncio task in the supervisor's thread, so respawns stay on the thread the parent-death signal
is bound to.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime

from shared.runtime.backoff import Backoff, RestartPolicy
from shared.runtime.children import process_ref, wait_exit, wait_popen
from shared.runtime.infra import EmbeddedServer
from shared.runtime.launch import Launch
from shared.runtime.process import spawn, tail
from shared.runtime.reporter import Reporter
from shared.runtime.state import ServerState, ServiceState, ServiceStatus


class ManagedService:
    def __init__(
        self,
        launch: Launch,
        *,
        policy: RestartPolicy,
        reporter: Reporter,
        save: Callable[[], None],
        spawned: asyncio.Event,
    ) -> None:
        self.launch = launch
        self.state = ServiceState(
            module=launch.spec.module,
            http_port=launch.http_port,
            http_url=launch.http_url,
            log=str(launch.log),
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self._backoff = Backoff(policy)
        self._reporter = reporter
        self._save = save
        self._spawned = spawned
        self._started = 0.0

    @property
    def name(self) -> str:
        return self.launch.spec.name

    def spawn(self) -> None:
        """Start the process (never blocks); a failure to exec counts as an immediate exit."""
        self._started = time.monotonic()
        self.state.status = (
            ServiceStatus.CRASH_LOOP if self._backoff.crash_looping else ServiceStatus.STARTING
        )
        self._mark_log()
        try:
            self.proc = spawn(self.launch.spec.argv(), env=self.launch.env, log=self.launch.log)
        except OSError as exc:
            self.proc = None
            self._reporter.restart_failed(self.name, str(exc))
        else:
            self.state.process = process_ref(self.proc.pid)
        self._save()
        self._spawned.set()

    def mark_healthy(self) -> None:
        self.state.status = ServiceStatus.RUNNING
        self._save()

    @property
    def starting(self) -> bool:
        """Spawned and alive, but not yet seen healthy since."""
        return (
            self.proc is not None
            and self.proc.poll() is None
            and self.state.status in (ServiceStatus.STARTING, ServiceStatus.CRASH_LOOP)
        )

    async def supervise(self) -> None:
        """Restart the process whenever it exits, until cancelled."""
        while True:
            code = await wait_popen(self.proc) if self.proc is not None else None
            uptime = time.monotonic() - self._started
            delay = self._backoff.on_exit(uptime)
            looping = self._backoff.crash_looping
            self.state.process = None
            self.state.last_exit_code = code
            self.state.consecutive_failures = self._backoff.failures
            self.state.status = ServiceStatus.CRASH_LOOP if looping else ServiceStatus.BACKOFF
            self._save()
            self._reporter.exited(self.name, code, uptime)
            if looping:
                self._reporter.crash_loop(self.name, self._backoff.failures, tail(self.launch.log))
            self._reporter.restarting(self.name, delay, self._backoff.failures)
            await asyncio.sleep(delay)
            self.state.restarts += 1
            self.spawn()

    def stopped(self) -> None:
        self.state.status = ServiceStatus.STOPPED
        self.state.process = None

    def _mark_log(self) -> None:
        # One line per launch, so a reader of the log can tell which run a traceback belongs to.
        self.launch.log.parent.mkdir(parents=True, exist_ok=True)
        with self.launch.log.open("a") as out:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            out.write(f"--- fluxos: starting {self.name} ({stamp}) ---\n")


class ManagedServer:
    def __init__(
        self,
        name: str,
        server: EmbeddedServer,
        state: ServerState,
        *,
        policy: RestartPolicy,
        reporter: Reporter,
        save: Callable[[], None],
    ) -> None:
        self.name = name
        self.server = server
        self.state = state
        self._backoff = Backoff(policy)
        self._reporter = reporter
        self._save = save
        self._started = time.monotonic()

    async def supervise(self) -> None:
        """Restart the server (same port, same data) whenever it exits, until cancelled."""
        while True:
            pid = self.server.pid
            if pid is not None:
                await wait_exit(pid, self.server.running)
            uptime = time.monotonic() - self._started
            self.state.process = None
            self._save()
            self._reporter.exited(self.name, None, uptime)
            while True:
                delay = self._backoff.on_exit(uptime)
                self._reporter.restarting(self.name, delay, self._backoff.failures)
                await asyncio.sleep(delay)
                self._started = time.monotonic()
                try:
                    # Blocks the loop until the server listens: about a second, and nothing
                    # else can make progress without it anyway.
                    self.server.start()
                    break
                except (RuntimeError, OSError) as exc:
                    self._reporter.restart_failed(self.name, str(exc))
                    uptime = 0.0
            self.state.restarts += 1
            if self.server.pid is not None:
                self.state.process = process_ref(self.server.pid)
            self._save()
