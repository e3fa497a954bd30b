"""The composition root of inkpass: settings in, a runnable service out. Nothing connects here.

Keys are derived from the platform secret, one per purpose (tokens, one-time passwords, backup
codes, invitations, subject hashes); encryption at rest uses the platform keyring. The database
exists only once the service has started, so use cases reach it through `app.db` lazily.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from inkpass.adapters.oauth import OpenIdProvider, ProviderConfig
from inkpass.adapters.passwords import Argon2Params, PasswordHasher
from inkpass.entrypoints import cache_events, rpc
from inkpass.service import housekeeping
from inkpass.service.caches import ApiKeyCache, AuthzStore
from inkpass.service.deps import Deps, Limits, Secrets
from inkpass.settings import InkPassSettings
from shared.auth import LocalVerifier, RevocationCache, RevocationFeed, TokenCodec
from shared.auth.keys import derive_key, token_signing_key
from shared.bus import Router
from shared.crypto import Keyring
from shared.logging import get_logger
from shared.service import ServiceApp

MIGRATIONS = Path(__file__).parent / "migrations"
PRUNE_EVERY_S = 600.0

log = get_logger(__name__)


def _oauth(settings: InkPassSettings) -> OpenIdProvider | None:
    if not settings.google_client_id or settings.google_client_secret is None:
        return None
    return OpenIdProvider(
        ProviderConfig(
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret.get_secret_value(),
            discovery_url=settings.google_discovery_url,
            timeout_s=settings.oauth_timeout_s,
        )
    )


def build_deps(settings: InkPassSettings, app: ServiceApp) -> Deps:
    platform = settings.platform
    codec = TokenCodec(token_signing_key(platform))
    cache = RevocationCache()
    return Deps(
        settings=settings,
        bus=app.bus,
        codec=codec,
        verifier=LocalVerifier(codec, cache, RevocationFeed(app.bus, cache)),
        hasher=PasswordHasher(
            Argon2Params(
                settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism
            ),
            max_concurrency=settings.argon2_max_concurrency,
        ),
        keyring=Keyring.from_settings(platform),
        secrets=Secrets(
            otp=derive_key(platform, b"inkpass/otp/v1"),
            backup_codes=derive_key(platform, b"inkpass/backup-codes/v1"),
            invitations=derive_key(platform, b"inkpass/invitations/v1"),
            subjects=derive_key(platform, b"inkpass/subjects/v1"),
        ),
        limits=Limits.from_settings(settings),
        api_keys=ApiKeyCache(settings.cache_ttl_s),
        authz=AuthzStore(settings.cache_ttl_s),
        oauth=_oauth(settings),
        database=lambda: app.db,
    )


def build_app(settings: InkPassSettings) -> ServiceApp:
    router = Router(settings.service_name)
    app = ServiceApp(settings, router=router, migrations=MIGRATIONS)
    deps = build_deps(settings, app)
    rpc.register(router, deps)

    @app.on_start
    async def follow_revocations_and_caches() -> None:
        await deps.verifier.start()
        await cache_events.listen(deps)
        await deps.hasher.warm_up()

    @app.background
    async def write_key_uses() -> None:
        while True:
            await asyncio.sleep(settings.key_use_flush_s)
            try:
                await housekeeping.flush_key_uses(deps)
            except Exception as exc:  # the next round tries again; uses are best effort
                log.warning("inkpass.flush_key_uses_failed", error=str(exc))

    @app.background
    async def prune() -> None:
        while True:
            try:
                await housekeeping.prune(deps)
            except Exception as exc:  # expired rows wait for the next round; nothing depends on it
                log.warning("inkpass.prune_failed", error=str(exc))
            await asyncio.sleep(PRUNE_EVERY_S)

    return app
