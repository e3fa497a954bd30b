"""Errors as HTTP answers: the status of the code, a JSON body `{"error": ErrorV1}`,
and the headers a protocol expects with it (tus offsets, Content-Range on 416)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from contracts.den.errors import DenErrorCode
from contracts.den.http import ERROR_CODE_HEADER, TUS_VERSION
from contracts.envelope import ErrorV1
from den.adapters.integrity import translate_integrity
from den.domain.errors import http_status_of
from shared.errors import FluxosError
from shared.logging import get_logger

log = get_logger(__name__)


def error_response(
    code: str,
    message: str,
    details: dict[str, Any] | None,
    path: str,
    *,
    retryable: bool = False,
) -> JSONResponse:
    status = http_status_of(code)
    # Also as a header: HEAD answers have no body to carry the JSON.
    headers: dict[str, str] = {ERROR_CODE_HEADER: code}
    if "/uploads" in path:
        headers["Tus-Resumable"] = TUS_VERSION
    details = details or {}
    if code == DenErrorCode.OFFSET_MISMATCH and "offset" in details:
        headers["Upload-Offset"] = str(details["offset"])
    if code == DenErrorCode.RANGE_NOT_SATISFIABLE and "size" in details:
        headers["Content-Range"] = f"bytes */{details['size']}"
    if code == DenErrorCode.UNSUPPORTED_VERSION:
        headers["Tus-Version"] = TUS_VERSION
    if code == DenErrorCode.STORAGE_UNAVAILABLE:
        headers["Retry-After"] = "1"
    error = ErrorV1(code=code, message=message, retryable=retryable, details=details or None)
    body = {"error": error.model_dump(mode="json", exclude_none=True)}
    return JSONResponse(body, status_code=status, headers=headers)


async def handle_fluxos_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FluxosError)
    log.info("den.http_refused", path=request.url.path, code=exc.code, error=exc.message)
    return error_response(
        exc.code, exc.message, exc.details, request.url.path, retryable=exc.retryable
    )


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    known = translate_integrity(exc)
    if known is not None:
        return await handle_fluxos_error(request, known)
    log.error("den.http_failed", path=request.url.path, error=repr(exc), exc_info=exc)
    return error_response(
        DenErrorCode.INTERNAL.value, "internal error; see den's log", None, request.url.path
    )
