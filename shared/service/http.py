"""uvicorn inside the service's own event loop, with /health and /ready on every HTTP service.

`/health` is liveness (the process answers); `/ready` is readiness (the same checks as the bus
health reply; 503 unless the service is fully up), so a load balancer stops sending traffic to a
replica that is starting, stopping or has lost its database.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from contracts.platform.health import HealthStatus, HealthV1
from shared.service.direct_body import KeepServerSend
from shared.settings import HttpServiceSettings


def add_health_routes(app: FastAPI, readiness: Callable[[], Awaitable[HealthV1]]) -> None:
    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        report = await readiness()
        code = 200 if report.status is HealthStatus.OK else 503
        return JSONResponse(report.model_dump(mode="json"), status_code=code)


class HttpServer:
    def __init__(
        self,
        app: FastAPI,
        settings: HttpServiceSettings,
        *,
        readiness: Callable[[], Awaitable[HealthV1]],
    ) -> None:
        add_health_routes(app, readiness)
        self.settings = settings
        # Bound here rather than by uvicorn so port 0 works and the real port is known.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((settings.http_host, settings.http_port))
        self._socket.set_inheritable(True)
        config = uvicorn.Config(
            KeepServerSend(app),  # for responses that write their body directly
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_seconds)),
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = self.settings.http_host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - display only
        return f"http://{shown}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._socket.close()
