"""The composition root of inbox: settings in, a runnable service out. Nothing connects here."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from inbox.adapters.apikeys import ApiKeyCache
from inbox.adapters.rate_limits import SharedRateLimits
from inbox.domain.cursors import CursorCodec
from inbox.domain.event_ids import EventIds
from inbox.entrypoints import chat_consumers, consumers
from inbox.entrypoints.http import chat_routes, install_http, new_http_app
from inbox.entrypoints.web import chat_pages
from inbox.service.chat_relay import ChatRelay
from inbox.service.context import Inbox
from inbox.service.live import Hub
from inbox.settings import InboxSettings
from shared.auth import AuthzClient, LocalVerifier, derive_key
from shared.bus import Router
from shared.db.urls import to_asyncpg_dsn
from shared.service import ServiceApp

MIGRATIONS = Path(__file__).parent / "migrations"

CURSOR_KEY_PURPOSE = b"fluxos/inbox/cursors/v1"
EVENT_ID_KEY_PURPOSE = b"fluxos/inbox/sse-event-ids/v1"


def build_inbox(settings: InboxSettings, service: ServiceApp) -> Inbox:
    bus = service.bus
    return Inbox(
        settings=settings,
        bus=bus,
        database=lambda: service.db,
        verifier=LocalVerifier.from_bus(bus),
        authz=AuthzClient(bus),
        api_keys=ApiKeyCache(bus),
        cursors=CursorCodec(derive_key(settings.platform, CURSOR_KEY_PURPOSE)),
        event_ids=EventIds(derive_key(settings.platform, EVENT_ID_KEY_PURPOSE)),
    )


def build_app(settings: InboxSettings) -> ServiceApp:
    router = Router(settings.service_name)
    limits = SharedRateLimits(application_name=f"inbox-{settings.instance_id}-limits")
    http = new_http_app(settings, limits)
    service = ServiceApp(settings, router=router, migrations=MIGRATIONS, http=http)
    inbox = build_inbox(settings, service)
    hub = Hub(inbox)
    relay = ChatRelay(inbox, hub)
    consumers.register(router, inbox)
    chat_consumers.register(router, inbox)
    http.include_router(chat_routes.router)
    http.include_router(chat_pages.router)
    install_http(http, inbox, hub)

    @service.on_start
    async def follow_the_bus() -> None:
        await inbox.verifier.start()
        await inbox.authz.start()
        await inbox.api_keys.start()
        await hub.start()
        await relay.start()

    @service.on_start
    async def open_rate_limits() -> None:
        await limits.open(to_asyncpg_dsn(service.db.url))

    @service.on_start
    async def open_projection() -> None:
        await inbox.projection.open(to_asyncpg_dsn(service.db.url))

    @service.background
    async def close_projection_at_stop() -> None:
        try:
            await asyncio.Event().wait()  # cancelled when the service stops
        finally:
            await inbox.projection.close()

    @service.on_start
    async def freeze_what_start_up_made() -> None:
        # Last of the start hooks: the modules, settings and pools made so far live as long as
        # the process. A full collection walks every tracked object; with them all it took
        # 75-220 ms (more under load), once in a bench run while 1,000 streams were open, every
        # stream waiting behind it. Frozen, they are never walked again (gc.freeze); a
        # collection first, so no garbage is frozen with them.
        gc.collect()
        gc.freeze()

    @service.background
    async def rate_limits() -> None:
        await limits.prune_until_stopped()

    @service.background
    async def feed_heads() -> None:
        try:
            await hub.watch_heads()  # until the service stops (cancelled)
        finally:
            await hub.stop()  # its subscription, and the threads that help write streams

    return service
