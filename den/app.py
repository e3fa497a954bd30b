"""The composition root of den: settings in, a runnable service out. Nothing connects here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from den.adapters.objectstore import ObjectStore
from den.domain.signing import UrlSigner, derive_key
from den.entrypoints import bus
from den.entrypoints.http import install_http, new_http_app
from den.service.context import Den, utc_now
from den.service.reconcile import reconcile, sweep_orphans
from den.settings import DenSettings
from shared.bus import Router
from shared.crypto import CryptoMisconfigured
from shared.logging import get_logger
from shared.service import ServiceApp

MIGRATIONS = Path(__file__).parent / "migrations"

log = get_logger(__name__)


def signing_key(settings: DenSettings) -> bytes:
    if settings.url_signing_key is not None:
        return derive_key(settings.url_signing_key.get_secret_value().encode())
    if settings.platform.secret_key is not None:
        return derive_key(settings.platform.secret_key.get_secret_value().encode())
    raise CryptoMisconfigured("den signs URLs with DEN_URL_SIGNING_KEY or FLUXOS_SECRET_KEY")


def build_den(
    settings: DenSettings, service: ServiceApp, *, clock: Callable[[], datetime] = utc_now
) -> Den:
    store = ObjectStore(
        service.bus,
        bucket=settings.bucket,
        chunk_bytes=settings.chunk_bytes,
        window=settings.publish_window,
        read_batch=settings.read_batch,
        read_batch_max_bytes=settings.read_batch_max_bytes,
    )
    return Den(
        settings=settings,
        database=lambda: service.db,
        bus=service.bus,
        store=store,
        signer=UrlSigner(signing_key(settings), max_lifetime_s=settings.max_link_lifetime_s),
        base_url=lambda: settings.public_url or service.http_url or "",
        instance=settings.instance_id,
        clock=clock,
    )


def build_app(settings: DenSettings, *, clock: Callable[[], datetime] = utc_now) -> ServiceApp:
    router = Router(settings.service_name)
    http = new_http_app()
    service = ServiceApp(settings, router=router, migrations=MIGRATIONS, http=http)
    den = build_den(settings, service, clock=clock)
    bus.register(router, den)
    install_http(http, den)

    @service.on_start
    async def provision_bucket() -> None:
        await den.store.ensure_bucket(replicas=settings.platform.stream_replicas)

    @service.background
    async def reconciler() -> None:
        last_orphan_sweep = time.monotonic()
        while True:
            await asyncio.sleep(settings.reconcile_interval_s)
            try:
                report = await reconcile(den)
                if report.orgs:
                    log.info("den.reconciled", **report.__dict__)
                if time.monotonic() - last_orphan_sweep >= settings.orphan_sweep_interval_s:
                    last_orphan_sweep = time.monotonic()
                    report = await sweep_orphans(den)
                    log.info("den.orphans_swept", **report.__dict__)
            except Exception as exc:  # transient (database or NATS down): try next round
                log.warning("den.reconcile_round_failed", error=str(exc))

    return service
