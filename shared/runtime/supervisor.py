"""The supervisor behind `fluxos up`.

Start order: NATS, PostgreSQL (each embedded in the home unless the environment names one), then
every service at once. It then watches: a process that exits is restarted with backoff, and the
platform is ready once every service has answered its health check. On SIGINT / SIGTERM / SIGHUP
it stops the services (SIGTERM, a grace period, then SIGKILL), then PostgreSQL, then NATS.

Every child is spawned with a parent-death signal, so even `kill -9` of the supervisor leaves
nothing behind. Progress goes to a `Reporter`; the runtime state to `<home>/run/state.json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.runtime.children import kill_group, process_ref, terminate
from shared.runtime.health import BusProbe, ReadinessProbe
from shared.runtime.home import HomeLayout, load_or_create_secret_key
from shared.runtime.infra import (
    Endpoint,
    StartupError,
    check_database,
    redact,
    start_nats,
    start_postgres,
)
from shared.runtime.launch import PlatformEnv, plan
from shared.runtime.lock import HomeLock
from shared.runtime.managed import ManagedServer, ManagedService
from shared.runtime.reporter import Reporter, SilentReporter
from shared.runtime.services import service_specs
from shared.runtime.state import Phase, RuntimeState, ServerState, ServiceStatus, write_state
from shared.runtime.supervisor_settings import SupervisorSettings
from shared.settings import PlatformSettings

ProbeFactory = Callable[[PlatformSettings], Awaitable[ReadinessProbe]]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def _bus_probe(platform: PlatformSettings) -> ReadinessProbe:
    return await BusProbe.connect(platform, name="fluxos-supervisor")


@dataclass(frozen=True)
class SupervisorConfig:
    home: HomeLayout
    platform: PlatformSettings
    settings: SupervisorSettings
    http_ports: Mapping[str, int | None] = field(default_factory=dict)
    """Per-service HTTP ports from the command line; None leaves the choice to the environment."""


class Supervisor:
    def __init__(
        self,
        config: SupervisorConfig,
        *,
        reporter: Reporter | None = None,
        probe_factory: ProbeFactory = _bus_probe,
    ) -> None:
        self.config = config
        self.reporter: Reporter = reporter or SilentReporter()
        self._probe_factory = probe_factory
        self._layout = config.home
        self._stop = asyncio.Event()
        self._spawned = asyncio.Event()
        self._servers: list[ManagedServer] = []
        self._services: list[ManagedService] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._probe: ReadinessProbe | None = None
        self._began = time.monotonic()
        self.state = RuntimeState(
            home=str(self._layout.root),
            supervisor=process_ref(os.getpid()),
            started_at=datetime.now(UTC),
        )

    # ------------------------------------------------------------------------------ lifecycle
    async def run(self) -> int:
        """Run until asked to stop; 0 after a clean stop, 1 if the platform could not start.

        Raises `AlreadyRunning` if another supervisor holds this home.
        """
        self._layout.create()
        with HomeLock(self._layout.lock_path):
            loop = asyncio.get_running_loop()
            for sig in _STOP_SIGNALS:
                loop.add_signal_handler(sig, self._on_signal)
            try:
                return await self._run_locked()
            finally:
                for sig in _STOP_SIGNALS:
                    loop.remove_signal_handler(sig)

    async def _run_locked(self) -> int:
        self._save()
        try:
            try:
                await self._start()
            except StartupError as exc:
                return self._fail(str(exc))
            except Exception as exc:
                self._fail(f"internal error while starting: {exc!r}")
                raise
            return await self._follow()
        finally:
            await self._shutdown()

    async def _follow(self) -> int:
        """Wait for a stop request; the watch tasks only ever end through a bug."""
        stop = asyncio.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait([stop, *self._tasks], return_when=FIRST_COMPLETED)
        finally:
            stop.cancel()
        if stop in done:
            return 0
        broken = next(iter(done))
        # Supervising blind is worse than stopping: a crash would go unnoticed.
        error = broken.exception() if not broken.cancelled() else None
        return self._fail(f"internal error in {broken.get_name()}: {error!r}")

    def _fail(self, reason: str) -> int:
        self.state.phase = Phase.FAILED
        self.state.error = reason
        self._save()
        self.reporter.failed(reason)
        return 1

    def _on_signal(self) -> None:
        if self._stop.is_set():
            # Asked twice: the user does not want to wait for graceful shutdown.
            for service in self._services:
                if service.proc is not None:
                    kill_group(service.proc.pid)
        self._stop.set()

    def _save(self) -> None:
        write_state(self._layout.state_path, self.state)

    # ------------------------------------------------------------------------------- startup
    async def _start(self) -> None:
        cfg = self.config
        policy = cfg.settings.restart_policy()

        nats = self._start_server(
            "nats", lambda: start_nats(self._layout, cfg.platform, cfg.settings)
        )
        self.state.nats = nats
        if self._stop.is_set():
            return
        try:
            bus_settings = cfg.platform.model_copy(update={"nats_url": nats.url})
            self._probe = await self._probe_factory(bus_settings)
        except ConnectionError as exc:
            raise StartupError(str(exc)) from exc

        pg = self._start_server(
            "postgres", lambda: start_postgres(self._layout, cfg.platform, cfg.settings)
        )
        self.state.postgres = pg
        if not pg.embedded:
            await check_database(pg.url)
        if self._stop.is_set():
            return

        secret = (
            cfg.platform.secret_key.get_secret_value()
            if cfg.platform.secret_key is not None
            else load_or_create_secret_key(self._layout.secret_key_path)
        )
        env = PlatformEnv(nats.url, pg.url, secret, self._layout)
        specs = service_specs(cfg.settings.services)
        for launch in plan(specs, env, cfg.http_ports):
            managed = ManagedService(
                launch,
                policy=policy,
                reporter=self.reporter,
                save=self._save,
                spawned=self._spawned,
            )
            self._services.append(managed)
            self.state.services[managed.name] = managed.state
            if launch.spec.name == "inbox":
                self.state.inbox_url = launch.http_url
        for service in self._services:
            self.reporter.starting(service.name)
            service.spawn()
            if service.state.process is not None:
                self.reporter.started(service.name, f"pid {service.state.process.pid}")
        watched: list[ManagedService | ManagedServer] = [*self._services, *self._servers]
        self._tasks += [asyncio.create_task(w.supervise(), name=f"watch-{w.name}") for w in watched]
        self._tasks.append(asyncio.create_task(self._watch_health(), name="health-watch"))

    def _start_server(self, name: str, start: Callable[[], Endpoint]) -> ServerState:
        self.reporter.starting(name)
        endpoint = start()
        state = ServerState(url=endpoint.url, embedded=endpoint.server is not None)
        if endpoint.server is not None and endpoint.server.pid is not None:
            state.process = process_ref(endpoint.server.pid)
            self._servers.append(
                ManagedServer(
                    name,
                    endpoint.server,
                    state,
                    policy=self.config.settings.restart_policy(),
                    reporter=self.reporter,
                    save=self._save,
                )
            )
        where = "embedded" if state.embedded else "external"
        self.reporter.started(name, f"{redact(endpoint.url)} ({where})")
        return state

    async def _watch_health(self) -> None:
        """Ask each freshly (re)started service for its health until it answers healthy.

        The platform becomes ready the first time every service has; afterwards this only wakes
        when a service is respawned.
        """
        assert self._probe is not None
        interval = self.config.settings.probe_interval
        timeout = self.config.settings.ready_timeout
        warned = False
        while True:
            starting = [s for s in self._services if s.starting]
            if not starting:
                if self.state.phase is Phase.STARTING and self._all_running():
                    self._became_ready()
                self._spawned.clear()
                await self._spawned.wait()
                continue
            results = await asyncio.gather(*(self._probe.check(s.name) for s in starting))
            for service, health in zip(starting, results, strict=True):
                if health.healthy and service.starting:
                    service.mark_healthy()
                    self.reporter.service_ready(service.name, health)
            elapsed = time.monotonic() - self._began
            if self.state.phase is Phase.STARTING and not warned and elapsed > timeout:
                warned = True
                pending = {
                    h.service: f"{h.status}: {h.detail}" if h.detail else h.status
                    for h in results
                    if not h.healthy
                }
                self.state.error = "not ready: " + ", ".join(sorted(pending))
                self._save()
                self.reporter.not_ready(pending, elapsed)
            await asyncio.sleep(interval)

    def _all_running(self) -> bool:
        return all(s.state.status is ServiceStatus.RUNNING for s in self._services)

    def _became_ready(self) -> None:
        self.state.phase = Phase.READY
        self.state.error = None
        self.state.ready_at = datetime.now(UTC)
        self._save()
        self.reporter.ready(self.state, time.monotonic() - self._began)

    # ------------------------------------------------------------------------------ shutdown
    async def _shutdown(self) -> None:
        if self.state.phase is not Phase.FAILED:
            self.state.phase = Phase.STOPPING
        self._save()
        self.reporter.stopping()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        procs = [s.proc for s in self._services if s.proc is not None]
        await terminate(procs, grace=self.config.settings.stop_grace_seconds)
        for service in self._services:
            service.stopped()
        self._save()
        if self._probe is not None:
            with contextlib.suppress(Exception):
                await self._probe.close()
        # Services first (they flush to the database and the bus), then the database, then NATS.
        for server in reversed(self._servers):
            server.server.stop()
            server.state.process = None
            self._save()
        if self.state.phase is not Phase.FAILED:
            self.state.phase = Phase.STOPPED
        self._save()
        self.reporter.stopped()
