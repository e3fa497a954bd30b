"""The FastAPI application den serves (the service runtime adds /health and /ready)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from contracts.den.http import ERROR_CODE_HEADER, FILE_ID_HEADER
from den.entrypoints.http import downloads, put, tus
from den.entrypoints.http.errors import handle_fluxos_error, handle_unexpected
from den.entrypoints.http.middleware import SecurityHeaders
from den.service.context import Den
from shared.errors import FluxosError

_TUS_REQUEST_HEADERS = [
    "Tus-Resumable",
    "Upload-Length",
    "Upload-Metadata",
    "Upload-Offset",
    "Upload-Checksum",
    "Upload-Defer-Length",
    "Upload-Concat",
    "Content-Type",
    "Range",
    "If-Range",
    "If-None-Match",
    "If-Match",
    "If-Modified-Since",
    "X-Requested-With",
]
_EXPOSED = [
    "Location",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Expires",
    FILE_ID_HEADER,
    ERROR_CODE_HEADER,
    "ETag",
    "Repr-Digest",
    "Content-Range",
    "Content-Disposition",
    "Content-Length",
    "Accept-Ranges",
]


def new_http_app() -> FastAPI:
    return FastAPI(title="den", docs_url=None, redoc_url=None, openapi_url=None)


def install_http(app: FastAPI, den: Den) -> None:
    """Den's routes, error handling and headers on `app` (made before den's runtime exists)."""
    app.include_router(downloads.routes(den))
    app.include_router(tus.routes(den))
    app.include_router(put.routes(den))
    app.add_exception_handler(FluxosError, handle_fluxos_error)
    app.add_exception_handler(Exception, handle_unexpected)
    # Signed URLs are capabilities carried in the URL, never cookies: any origin may use one.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=den.settings.cors_origins,
        allow_methods=["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        allow_headers=_TUS_REQUEST_HEADERS,
        expose_headers=_EXPOSED,
        allow_credentials=False,
        max_age=86400,
    )
    app.add_middleware(SecurityHeaders)
