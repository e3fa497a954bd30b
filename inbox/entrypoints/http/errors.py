"""One error format for every HTTP answer: `{"error": {"code", "message", "details"}}`.

Codes are stable (`inbox.*`, or the code of the service that refused, e.g. `inkpass.*`,
`tentacle.*`); messages are for people; nothing internal (a stack trace, a SQL error) leaks.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from inbox.domain.errors import InboxError, http_status
from inbox.service.remote import as_http_error
from shared.errors import FluxosError
from shared.logging import get_logger

log = get_logger(__name__)

_HTTP_CODES = {
    404: "inbox.not_found",
    405: "inbox.method_not_allowed",
    413: "inbox.body_too_large",
    415: "inbox.unsupported_media_type",
}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))}
        for err in exc.errors()[:20]
    ]


def wants_html(request: Request) -> bool:
    """A person's browser on a page (not the API): answer with a page they can read."""
    path = request.url.path
    return not path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def error_page(status: int, code: str, message: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/static/app.css"><title>Error</title></head><body><main>'
        f'<p class="error" role="alert" data-code="{html.escape(code)}">{html.escape(message)}</p>'
        '<p><a href="/inbox">Back to the inbox</a></p></main></body></html>'
    )
    return HTMLResponse(body, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InboxError)
    async def inbox_error(request: Request, exc: InboxError) -> Response:
        headers = {"Retry-After": "1"} if http_status(exc) in (429, 503) else None
        if wants_html(request):
            return error_page(http_status(exc), exc.code, exc.message)
        return error_response(http_status(exc), exc.code, exc.message, exc.details, headers)

    @app.exception_handler(FluxosError)
    async def fluxos_error(request: Request, exc: FluxosError) -> Response:
        coded = as_http_error(exc)
        if wants_html(request):
            return error_page(http_status(coded), coded.code, coded.message)
        return error_response(http_status(coded), coded.code, coded.message, coded.details)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "inbox.malformed_json", "the body is not valid JSON")
        return error_response(
            422, "inbox.invalid_request", "the request is not valid", _validation_details(exc)
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"inbox.http_{exc.status_code}")
        return error_response(
            exc.status_code,
            code,
            str(exc.detail),
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("inbox.internal_error", path=request.url.path, exc_info=exc)
        return error_response(500, "inbox.internal", "internal error; see the inbox log")
