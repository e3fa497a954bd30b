"""Stand-ins for Postmark and Resend: real HTTP servers on loopback that take the providers'
real request formats and answer with their real response and error shapes.

A test scripts what comes next (`stub.then(...)`): a 429 with Retry-After, a 500, a refusal,
or a hang (the request is taken, and perhaps acted on, but never answered in time).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def hang(*, record: bool) -> str:
    return "hang+record" if record else "hang"


@dataclass
class _Base:
    sent: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[Response | str] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def then(self, *steps: Response | str) -> None:
        """Answer the next requests with these, in order, before going back to normal."""
        self.script.extend(steps)

    async def _scripted(self, record: Callable[[], None]) -> Response | None:
        if not self.script:
            return None
        step = self.script.pop(0)
        if isinstance(step, Response):
            return step
        if step.startswith("slow:"):  # answer normally, but only after a while
            await asyncio.sleep(float(step.removeprefix("slow:")))
            return None
        if step == "hang+record":
            record()  # the provider did its job; only the answer is lost
        await self.released.wait()
        return JSONResponse({"message": "too late"}, status_code=504)


class PostmarkStub(_Base):
    token = "postmark-server-token"

    def __init__(self) -> None:
        super().__init__()
        self.app = FastAPI()
        self.app.post("/email")(self._email)

    @staticmethod
    def error(status: int, code: int, message: str, **headers: str) -> Response:
        return JSONResponse({"ErrorCode": code, "Message": message}, status, headers=headers)

    async def _email(self, request: Request) -> Response:
        self.requests.append({"headers": dict(request.headers)})
        if request.headers.get("x-postmark-server-token") != self.token:
            return self.error(
                401, 10, "No Account or Server API tokens were supplied in the HTTP headers."
            )
        if request.headers.get("accept") != "application/json":
            return self.error(422, 402, "Invalid JSON: Accept header must be application/json")
        try:
            body = await request.json()
        except ValueError:
            return self.error(422, 402, "Received invalid JSON input.")
        missing = [k for k in ("From", "To", "Subject") if not body.get(k)]
        if missing or not (body.get("TextBody") or body.get("HtmlBody")):
            return self.error(
                422,
                300,
                "Invalid email request: Provide either email TextBody or HtmlBody or both.",
            )
        message_id = str(uuid.uuid4())

        def record() -> None:
            self.sent.append({**body, "MessageID": message_id})

        scripted = await self._scripted(record)
        if scripted is not None:
            return scripted
        record()
        return JSONResponse(
            {
                "To": body["To"],
                "SubmittedAt": datetime.now(UTC).isoformat(),
                "MessageID": message_id,
                "ErrorCode": 0,
                "Message": "OK",
            }
        )


class ResendStub(_Base):
    key = "re_test_key"

    def __init__(self) -> None:
        super().__init__()
        self.app = FastAPI()
        self.app.post("/emails")(self._emails)
        # What an idempotency key was first used with, and the answer it got (Resend: 24 h).
        self.idempotent: dict[str, tuple[str, str]] = {}
        self.next_ids: list[str] = []
        """Ids to give the next accepted emails (a test knows them before the send)."""

    @staticmethod
    def error(status: int, name: str, message: str, **headers: str) -> Response:
        return JSONResponse(
            {"statusCode": status, "name": name, "message": message}, status, headers=headers
        )

    async def _emails(self, request: Request) -> Response:
        self.requests.append({"headers": dict(request.headers)})
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return self.error(401, "missing_api_key", "Missing API key in the authorization header")
        if auth != f"Bearer {self.key}":
            return self.error(403, "invalid_api_key", "API key is invalid")
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return self.error(400, "validation_error", "Invalid JSON")
        for name in ("from", "to", "subject"):
            if not body.get(name):
                return self.error(422, "missing_required_field", f"Missing `{name}` field.")
        if not isinstance(body["to"], list):
            return self.error(422, "validation_error", "`to` must be an array")
        digest = hashlib.sha256(raw).hexdigest()
        key = request.headers.get("idempotency-key")
        if key is not None and key in self.idempotent:
            first_digest, first_id = self.idempotent[key]
            if first_digest != digest:
                return self.error(
                    409,
                    "invalid_idempotent_request",
                    "Same idempotency key used with a different request payload.",
                )
            return JSONResponse({"id": first_id})
        email_id = self.next_ids.pop(0) if self.next_ids else str(uuid.uuid4())

        def record() -> None:
            self.sent.append({**body, "id": email_id})
            if key is not None:
                self.idempotent[key] = (digest, email_id)

        scripted = await self._scripted(record)
        if scripted is not None:
            return scripted
        record()
        return JSONResponse({"id": email_id})

    @staticmethod
    def rate_limited(retry_after: int) -> Response:
        return ResendStub.error(
            429,
            "rate_limit_exceeded",
            "Too many requests. You can only make 2 requests per second.",
            **{
                "retry-after": str(retry_after),
                "ratelimit-limit": "2",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(retry_after),
            },
        )
