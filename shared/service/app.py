"""The runtime every service shares: start in order, report health, stop gracefully.

A service's composition root (`<service>/app.py`) builds a `ServiceApp` from its settings, its
router and its migrations; `python -m <service>` runs it until SIGTERM. Start:

1. connect to NATS (retrying while it is not up yet) and provision every declared stream;
2. provision and migrate the service's database (if it has one), connect the pool, start the
   outbox relay;
3. run the service's start hooks (e.g. seeding), then serve: health and RPC subjects, durable
   consumers, the dead-letter advisory watcher, HTTP;
4. report healthy.

Stop reverses it: stop taking new work (HTTP, RPC, consumers), give in-flight work the grace
period (unfinished JetStream messages are handed back at once), flush the outbox, drain the
connection, close the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from contracts.platform.health import (
    CheckResultV1,
    HealthCheckV1,
    HealthStatus,
    HealthV1,
    health_subject,
)
from contracts.registry import STREAMS
from shared.bus import AdvisoryWatcher, Bus, DeadLetters, PullConsumer, Request, Router, RpcServer
from shared.bus.provisioning import ensure_consumer, ensure_streams
from shared.context import system_actor
from shared.db import Database, OutboxRelay, migrate, prepare_service_database
from shared.logging import bind_process, configure, get_logger
from shared.service.http import HttpServer
from shared.settings import HttpServiceSettings, ServiceSettings
from shared.tasks import cancel_and_wait
from shared.version import VERSION

log = get_logger(__name__)

Hook = Callable[[], Awaitable[None]]


class ServiceApp:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        router: Router,
        migrations: Path | None = None,
        http: FastAPI | None = None,
    ) -> None:
        self.settings = settings
        self.service = type(settings).service_name
        if router.service != self.service:
            raise ValueError(f"router of {router.service} given to {self.service}")
        self.router = router
        self.migrations = migrations
        self.bus = Bus(
            settings.platform,
            name=f"{self.service}-{settings.instance_id}",
            actor=system_actor(self.service),
        )
        self.http_app = http
        self._db: Database | None = None
        self._relay: OutboxRelay | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._rpc: list[RpcServer[Any, Any]] = []
        self._consumers: list[PullConsumer[Any]] = []
        self._advisories: AdvisoryWatcher | None = None
        self._http: HttpServer | None = None
        self._on_start: list[Hook] = []
        self._background: list[Hook] = []
        self.status = HealthStatus.STARTING
        self.started_at = datetime.now(UTC)
        router.rpc(health_subject(self.service), concurrency=16)(self._health)

    # ---------------------------------------------------------------- composition
    @property
    def db(self) -> Database:
        """The service's database, once started (handlers run only after that)."""
        if self._db is None:
            raise RuntimeError(f"{self.service} has no database, or it is not started yet")
        return self._db

    def on_start(self, hook: Hook) -> Hook:
        """Run once the database and bus are up, before any message is handled."""
        self._on_start.append(hook)
        return hook

    def background(self, loop: Hook) -> Hook:
        """A task that runs while the service runs and is cancelled when it stops."""
        self._background.append(loop)
        return loop

    @property
    def http_url(self) -> str | None:
        return self._http.url if self._http is not None else None

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        platform = self.settings.platform
        configure(level=platform.log_level, fmt=platform.log_format)
        bind_process(service=self.service, instance=self.settings.instance_id)
        started = time.monotonic()
        await self._connect_bus()
        await ensure_streams(self.bus.js, STREAMS, replicas=platform.stream_replicas)
        if self.migrations is not None:
            url = await prepare_service_database(self.settings)
            await migrate(url, self.migrations)
            self._db = Database(
                url,
                pool_size=self.settings.db_pool_size,
                max_overflow=self.settings.db_max_overflow,
                application_name=f"{self.service}-{self.settings.instance_id}",
                publisher=self.bus.publish_message,
            )
            await self._db.connect()
            self._relay = OutboxRelay(self._db)
            self._relay_task = self._spawn(self._relay.run(), "outbox-relay")
            self.bus.on_reconnect(self._relay.wake)
        for hook in self._on_start:
            await hook()
        await self._serve()
        self.status = HealthStatus.OK
        log.info(
            "service.started",
            version=VERSION,
            seconds=round(time.monotonic() - started, 3),
            http=self.http_url,
        )

    async def _connect_bus(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.bus.connect(timeout=5)
                return
            except Exception as exc:  # NATS not up yet (compose starts everything at once)
                log.warning("service.bus_unreachable", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _serve(self) -> None:
        for subject, handler, concurrency in self.router.rpcs:
            server = RpcServer(
                self.bus, subject, handler, queue=self.service, concurrency=concurrency
            )
            await server.start()
            self._rpc.append(server)
        dead_letters = DeadLetters(self.bus, self.service)
        for spec, handle in self.router.consumers:
            await ensure_consumer(self.bus.js, spec)
            consumer = PullConsumer(self.bus, spec, handle, dead_letters=dead_letters)
            await consumer.start()
            self._consumers.append(consumer)
        specs = [spec for spec, _ in self.router.consumers]
        if specs:
            self._advisories = AdvisoryWatcher(self.bus, self.service, specs, dead_letters)
            await self._advisories.start()
        for loop in self._background:
            self._spawn(loop(), loop.__name__)
        if isinstance(self.settings, HttpServiceSettings):
            app = self.http_app or FastAPI(title=self.service)
            self._http = HttpServer(app, self.settings, readiness=self.health)
            await self._http.start()
        await self.bus.nc.flush()

    def _spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                # A background loop that dies leaves the service degraded, not silently broken.
                log.exception("service.task_failed", task=name)
                self.status = HealthStatus.DEGRADED

        task = asyncio.create_task(guarded(), name=name)
        self._tasks.append(task)
        return task

    async def stop(self) -> None:
        self.status = HealthStatus.STOPPING
        grace = self.settings.shutdown_grace_seconds
        log.info("service.stopping", grace_s=grace)
        if self._http is not None:
            await self._http.stop()
        await asyncio.gather(
            *(c.stop(grace=grace) for c in self._consumers),
            *(s.stop(grace=grace) for s in self._rpc),
        )
        if self._advisories is not None:
            await self._advisories.stop()
        if self._relay is not None:
            self._relay.stop()  # finishes its sweep, so what was committed still goes out
        await asyncio.gather(
            *(
                cancel_and_wait(task, timeout=grace)
                for task in self._tasks
                if task is not self._relay_task
            )
        )
        if self._relay_task is not None:
            _, unfinished = await asyncio.wait({self._relay_task}, timeout=grace)
            for task in unfinished:
                await cancel_and_wait(task)
        with contextlib.suppress(Exception):
            await self.bus.close()
        if self._db is not None:
            await self._db.dispose()
        log.info("service.stopped")

    # ---------------------------------------------------------------- health
    async def health(self) -> HealthV1:
        checks: dict[str, CheckResultV1] = {
            "bus": CheckResultV1(ok=self.bus.connected, detail="" if self.bus.connected else "down")
        }
        if self._db is not None:
            try:
                seconds = await self._db.ping()
                checks["database"] = CheckResultV1(ok=True, latency_ms=round(seconds * 1000, 3))
            except Exception as exc:
                checks["database"] = CheckResultV1(ok=False, detail=str(exc)[:200])
        stopped = [c.spec.durable for c in self._consumers if not c.running]
        checks["consumers"] = CheckResultV1(
            ok=not stopped, detail=f"stopped: {', '.join(stopped)}" if stopped else ""
        )
        status = self.status
        if status is HealthStatus.OK and not all(c.ok for c in checks.values()):
            status = HealthStatus.DEGRADED
        return HealthV1(
            service=self.service,
            instance_id=self.settings.instance_id,
            version=VERSION,
            status=status,
            started_at=self.started_at,
            checks=checks,
            http_url=self.http_url,
        )

    async def _health(self, _: HealthCheckV1, __: Request) -> HealthV1:
        return await self.health()
