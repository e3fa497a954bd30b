"""The inbox's HTTP surface: the REST API, the live stream and the web UI."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from inbox.adapters.rate_limits import SharedRateLimits
from inbox.entrypoints.http import (
    auth_routes,
    conversation_routes,
    files_routes,
    integration_routes,
    member_routes,
    memory_routes,
    org_routes,
    stream_routes,
    task_routes,
    workspace_routes,
)
from inbox.entrypoints.http.errors import install_error_handlers
from inbox.entrypoints.http.limits import BodyLimit, Rate, RateLimit
from inbox.entrypoints.web import (
    files_pages,
    google_pages,
    integration_pages,
    members_pages,
    memory_pages,
    org_pages,
    pages,
    workspace_pages,
)
from inbox.service.context import Inbox
from inbox.service.live import Hub
from inbox.settings import InboxSettings

STATIC = Path(__file__).parent.parent / "web" / "static"
AUTH_PREFIXES = ("/api/v1/auth/", "/login", "/signup")
UPLOAD_PREFIXES = ("/api/v1/files/upload",)


def new_http_app(settings: InboxSettings, limits: SharedRateLimits) -> FastAPI:
    app = FastAPI(
        title="fluxos inbox",
        version="1",
        description=(
            "The user's door: tasks, conversations, live streams, workspace objects, memory,"
            " files, members and invitations."
        ),
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        exempt_prefixes=UPLOAD_PREFIXES,
    )
    app.add_middleware(
        RateLimit,
        limits=limits,
        general=Rate(settings.rate_limit_per_minute, settings.rate_limit_burst),
        auth=Rate(
            settings.auth_rate_limit_per_minute, max(1, settings.auth_rate_limit_per_minute // 3)
        ),
        auth_prefixes=AUTH_PREFIXES,
    )
    for module in (auth_routes, task_routes, conversation_routes, stream_routes, files_routes):
        app.include_router(module.router)
    for module in (workspace_routes, memory_routes, member_routes, org_routes, integration_routes):
        app.include_router(module.router)
    app.include_router(pages.router)
    for module in (workspace_pages, memory_pages, files_pages, members_pages, org_pages):
        app.include_router(module.router)
    app.include_router(google_pages.router)
    app.include_router(integration_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def install_http(app: FastAPI, inbox: Inbox, hub: Hub) -> None:
    app.state.inbox = inbox
    app.state.hub = hub
