"""A local OpenAI-compatible server with scripted answers, for tests that drive litellm's real
HTTP path: chat completions (plain, tool calls, JSON, streamed as server-sent events), the
provider's error shapes (429 with Retry-After, 5xx, 400), and deterministic embeddings.

Replies are taken from a queue in order; with an empty queue it answers a fixed text. Every
request body is recorded, so a test can check what the gateway actually sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse


@dataclass
class Scripted:
    text: str | None = "stub reply"
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    """(name, arguments); arguments given as a string are sent as they are (even if not JSON)."""
    prompt_tokens: int = 100
    completion_tokens: int = 20
    status: int = 200
    error_message: str = ""
    retry_after: float | None = None
    delay: float = 0.0
    word_delay: float = 0.0
    """Pause between streamed words (a slow model, for tests that act mid-stream)."""


class OpenAIStub:
    def __init__(self) -> None:
        self.script: deque[Scripted] = deque()
        self.requests: list[dict[str, Any]] = []
        self.embedding_dimensions = 16
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.base_url = ""
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._chat)
        self.app.post("/v1/embeddings")(self._embeddings)

    def enqueue(self, *replies: Scripted) -> None:
        self.script.extend(replies)

    async def start(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_config=None, lifespan="off"))
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:  # uvicorn offers a flag, not an event, for this
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    # ---------------------------------------------------------------- endpoints
    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        reply = self.script.popleft() if self.script else Scripted()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            headers = {"retry-after": str(reply.retry_after)} if reply.retry_after else {}
            error = {
                "error": {
                    "message": reply.error_message or f"stub error {reply.status}",
                    "type": _error_type(reply.status),
                    "code": None,
                }
            }
            return JSONResponse(error, status_code=reply.status, headers=headers)
        if body.get("stream"):
            return StreamingResponse(
                self._sse(body["model"], reply), media_type="text/event-stream"
            )
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": _arguments(args)},
                }
                for i, (name, args) in enumerate(reply.tool_calls)
            ]
        return JSONResponse(
            {
                "id": "chatcmpl-stub",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    }
                ],
                "usage": _usage(reply),
            }
        )

    async def _sse(self, model: str, reply: Scripted) -> AsyncIterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            payload = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(payload)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for word in (reply.text or "").split(" "):
            if word:
                yield chunk({"content": word + " "})
                await asyncio.sleep(reply.word_delay)
        for i, (name, args) in enumerate(reply.tool_calls):
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": f"call_{i}",
                            "type": "function",
                            "function": {"name": name, "arguments": _arguments(args)},
                        }
                    ]
                }
            )
        yield chunk({}, "tool_calls" if reply.tool_calls else "stop", usage=_usage(reply))
        yield "data: [DONE]\n\n"

    async def _embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": self.embed(str(text))}
            for i, text in enumerate(inputs)
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 8 * len(inputs), "total_tokens": 8 * len(inputs)},
            }
        )

    def embed(self, text: str) -> list[float]:
        """Deterministic: the same text always gets the same unit vector."""
        digest = hashlib.sha256(text.lower().encode()).digest()
        raw = [(b - 127.5) / 127.5 for b in digest[: self.embedding_dimensions]]
        norm = sum(v * v for v in raw) ** 0.5 or 1.0
        return [v / norm for v in raw]


def _arguments(args: dict[str, Any] | str) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def _error_type(status: int) -> str:
    # The types OpenAI really sends with these statuses.
    if status == 429:
        return "rate_limit_exceeded"
    if status >= 500:
        return "server_error"
    if status == 401:
        return "invalid_api_key"
    return "invalid_request_error"


def _usage(reply: Scripted) -> dict[str, int]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
