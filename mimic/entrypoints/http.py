"""mimic's HTTP side: webhook ingress for integrators, provider status webhooks, dev mailbox.

Bodies are read with their size counted as they arrive, so an oversized post is cut off at the
limit rather than buffered whole. Refusals answer `{"error": {"code", "message"}}` with the
status the verification chose; nothing else about the integration is revealed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from contracts.mimic.errors import MimicErrorCode
from mimic.components import Components
from mimic.domain.errors import WebhookRejected
from mimic.entrypoints import mailbox_pages
from shared.errors import FluxosError, TransientError
from shared.logging import get_logger

log = get_logger(__name__)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> WebhookRejected:
    return WebhookRejected(
        MimicErrorCode.PAYLOAD_TOO_LARGE, f"the body is larger than {limit} bytes", status=413
    )


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers or None
    )


async def answer(work: Callable[[], Awaitable[tuple[int, dict[str, Any] | None]]]) -> Response:
    try:
        status, body = await work()
    except WebhookRejected as exc:
        return _error(exc.status, exc.code, exc.message)
    except TransientError as exc:
        # The integrator retries later (every provider retries on 5xx).
        return _error(503, exc.code, exc.message, **{"Retry-After": "5"})
    except FluxosError as exc:
        log.warning("webhook.refused", code=exc.code, error=exc.message)
        return _error(500, exc.code, "the webhook could not be processed")
    if body is None:
        return Response(status_code=status)
    return JSONResponse(body, status_code=status)


def register(web: FastAPI, mimic: Components) -> None:
    limit = mimic.settings.webhook_max_bytes

    @web.post("/hooks/{org_id}/{route_key}", include_in_schema=False)
    async def integration_hook(org_id: str, route_key: str, request: Request) -> Response:
        async def work() -> tuple[int, dict[str, Any] | None]:
            body = await read_body(request, limit)
            headers = {k.lower(): v for k, v in request.headers.items()}
            result = await mimic.receive(org_id, route_key, headers, body)
            return result.status, result.body

        return await answer(work)

    @web.post("/providers/resend/events", include_in_schema=False)
    async def resend_status(request: Request) -> Response:
        async def work() -> tuple[int, dict[str, Any] | None]:
            body = await read_body(request, limit)
            headers = {k.lower(): v for k, v in request.headers.items()}
            return 200, await mimic.statuses.resend(headers, body)

        return await answer(work)

    @web.post("/providers/postmark/events", include_in_schema=False)
    async def postmark_status(request: Request) -> Response:
        async def work() -> tuple[int, dict[str, Any] | None]:
            body = await read_body(request, limit)
            headers = {k.lower(): v for k, v in request.headers.items()}
            return 200, await mimic.statuses.postmark(headers, body)

        return await answer(work)

    settings = mimic.settings
    if "dev" in settings.email_providers and settings.dev_mailbox_page:
        mailbox_pages.register(web, settings.maildir)
