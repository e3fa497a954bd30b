"""Body size and request rate limits, as plain ASGI middleware (before any parsing).

Bodies: a declared `Content-Length` over the limit is refused at once; a chunked body is counted
as it arrives and refused once it passes the limit, so no request can make the inbox buffer more
than `max_body_bytes`. File uploads (which stream through to Den) are exempt.

Rates: an allowance per caller, shared by every replica (`SharedRateLimits`, in PostgreSQL):
per credential when the request carries one, else per client address; sign-in and sign-up
requests have a tighter allowance per address.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inbox.adapters.rate_limits import SharedRateLimits


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 429:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await _send_error(
                        send,
                        413,
                        "inbox.body_too_large",
                        f"bodies are limited to {self.max_bytes} bytes",
                    )
                    return
        seen = 0
        started = False
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Answer now and tell the app the client went away; whatever the app
                    # answers after that is dropped (it may wrap errors while parsing).
                    refused = True
                    if not started:
                        await _send_error(send, 413, "inbox.body_too_large", self._message)
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted, tracked)

    @property
    def _message(self) -> str:
        return f"bodies are limited to {self.max_bytes} bytes"


@dataclass(frozen=True)
class Rate:
    per_minute: int
    burst: int


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: SharedRateLimits,
        general: Rate,
        auth: Rate,
        auth_prefixes: tuple[str, ...],
        exempt_paths: tuple[str, ...] = ("/health", "/ready"),
    ) -> None:
        self.app = app
        self.limits = limits
        self.general = general
        self.auth = auth
        self.auth_prefixes = auth_prefixes
        self.exempt = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        credential = b""
        for name, value in scope["headers"]:
            if name in (b"authorization", b"x-api-key"):
                credential = value
                break
        if not credential:
            for name, value in scope["headers"]:
                if name == b"cookie" and b"fluxos_access=" in value:
                    credential = value
                    break
        if scope["path"].startswith(self.auth_prefixes) and scope["method"] == "POST":
            key, rate = "auth:ip:" + address, self.auth
        elif credential:
            key, rate = "cred:" + hashlib.sha256(credential).hexdigest(), self.general
        else:
            key, rate = "ip:" + address, self.general
        if not await self.limits.take(key, per_minute=rate.per_minute, burst=rate.burst):
            await _send_error(send, 429, "inbox.rate_limited", "too many requests; slow down")
            return
        await self.app(scope, receive, send)
