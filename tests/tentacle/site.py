"""A small website on loopback for http_fetch: pages, JSON, failures, and a POST endpoint that
counts every call by its Idempotency-Key (to prove a side effect ran once)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

ARTICLE = """<html><head><title>Tides</title><style>p {color: red}</style></head><body>
<h1>Tides</h1>
<p>Tides are caused by the gravitational pull of the Moon and the Sun on the oceans.</p>
<p>The Moon's pull is stronger because it is closer, so lunar tides dominate.</p>
<p>Spring tides happen when the Sun and Moon align; neap tides when they are at right angles.</p>
<script>alert('not text')</script>
</body></html>"""


class Site:
    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()
        self.post_delay = 0.0
        self.app = FastAPI()
        self.app.get("/article")(self.article)
        self.app.get("/data.json")(self.data)
        self.app.get("/broken")(self.broken)
        self.app.get("/missing")(self.missing)
        self.app.post("/orders")(self.order)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_config=None, lifespan="off"))
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    async def article(self) -> HTMLResponse:
        self.hits["article"] += 1
        return HTMLResponse(ARTICLE)

    async def data(self) -> JSONResponse:
        return JSONResponse({"values": [3, 1, 2], "owner": "ada@example.com"})

    async def broken(self) -> Response:
        self.hits["broken"] += 1
        return Response("down", status_code=503)

    async def missing(self) -> Response:
        return Response("no", status_code=404)

    async def order(self, request: Request) -> JSONResponse:
        key = request.headers.get("idempotency-key", "")
        self.posts[key] += 1
        if self.post_delay:
            await asyncio.sleep(self.post_delay)
        return JSONResponse({"ordered": True, "key": key}, status_code=201)
