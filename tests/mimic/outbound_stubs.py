"""Discord, Slack, GitHub and a custom receiver: real HTTP servers speaking each API's formats."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

BOT_TOKEN = "bot-token-xyz"
SLACK_BOT = "xoxb-test-token"
GITHUB_TOKEN = "ghp_test_token"


@dataclass
class Outside:
    """Every API at once, on one server; `calls` records what reached it."""

    calls: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    throttle: int = 0
    receiver_secret: str = ""
    app: FastAPI = field(default_factory=FastAPI)

    def __post_init__(self) -> None:
        app = self.app
        app.post("/discord/api/v10/webhooks/{hook_id}/{token}")(self.discord_webhook)
        app.post("/discord/api/v10/channels/{channel_id}/messages")(self.discord_channel)
        app.post("/slack/api/chat.postMessage")(self.slack_post)
        app.post("/slack/hooks/{path:path}")(self.slack_hook)
        app.post("/github/repos/{owner}/{repo}/issues")(self.github_issue)
        app.post("/receiver")(self.receiver)

    async def _record(self, request: Request) -> dict[str, Any]:
        body = await request.json()
        self.calls.append((request.url.path, body, dict(request.headers)))
        return body  # type: ignore[no-any-return]

    # ---------------------------------------------------------------- Discord
    async def discord_webhook(self, hook_id: str, token: str, request: Request) -> Response:
        if self.throttle:
            self.throttle -= 1
            self.calls.append((request.url.path, {}, dict(request.headers)))
            return JSONResponse(
                {"message": "You are being rate limited.", "retry_after": 0.3, "global": False},
                status_code=429,
                headers={"Retry-After": "1"},
            )
        body = await self._record(request)
        if len(body.get("content", "")) > 2000:
            return JSONResponse({"code": 50035, "message": "Invalid Form Body"}, status_code=400)
        if request.query_params.get("wait") != "true":
            return Response(status_code=204)
        return JSONResponse(
            {"id": "1100000000000000001", "channel_id": "555", "content": body.get("content")}
        )

    async def discord_channel(self, channel_id: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bot {BOT_TOKEN}":
            return JSONResponse({"message": "401: Unauthorized", "code": 0}, status_code=401)
        await self._record(request)
        return JSONResponse({"id": "1100000000000000002", "channel_id": channel_id})

    # ---------------------------------------------------------------- Slack
    async def slack_post(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {SLACK_BOT}":
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        body = await self._record(request)
        if body.get("channel") == "C-missing":
            return JSONResponse({"ok": False, "error": "channel_not_found"})
        return JSONResponse({"ok": True, "channel": body["channel"], "ts": "1503435956.000247"})

    async def slack_hook(self, path: str, request: Request) -> Response:
        await self._record(request)
        return PlainTextResponse("ok")

    # ---------------------------------------------------------------- GitHub
    async def github_issue(self, owner: str, repo: str, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {GITHUB_TOKEN}":
            return JSONResponse(
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
                status_code=401,
            )
        body = await self._record(request)
        if not body.get("title"):
            return JSONResponse({"message": "Validation Failed"}, status_code=422)
        return JSONResponse(
            {"number": 1347, "html_url": f"https://github.com/{owner}/{repo}/issues/1347"},
            status_code=201,
        )

    # ---------------------------------------------------------------- custom receiver
    async def receiver(self, request: Request) -> Response:
        raw = await request.body()
        timestamp = request.headers.get("x-fluxos-timestamp", "")
        expected = (
            "v1="
            + hmac.new(
                self.receiver_secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(expected, request.headers.get("x-fluxos-signature", "")):
            return PlainTextResponse("bad signature", status_code=401)
        await self._record(request)
        return Response(status_code=202)
