"""NATS and PostgreSQL for `fluxos up`: embedded in the home, or the ones the environment names.

`FLUXOS_NATS_URL` / `FLUXOS_DATABASE_URL`, when set, mean "use these": no server of that kind
is started, and the external one must answer before any service is launched, so a typo is
reported once, clearly, instead of as five crash-looping services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from shared.runtime.home import HomeLayout
from shared.runtime.nats_server import NatsServer
from shared.runtime.ports import choose_port
from shared.runtime.postgres_server import PostgresServer
from shared.runtime.supervisor_settings import SupervisorSettings
from shared.settings import PlatformSettings


class StartupError(RuntimeError):
    """The platform cannot start; the message says why, for a person to read."""


class EmbeddedServer(Protocol):
    @property
    def pid(self) -> int | None: ...

    def running(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Endpoint:
    url: str
    server: EmbeddedServer | None
    """None when the environment named an external server."""


def uses_external_nats(platform: PlatformSettings) -> bool:
    return "nats_url" in platform.model_fields_set


def uses_external_postgres(platform: PlatformSettings) -> bool:
    return platform.database_url is not None


def start_nats(
    layout: HomeLayout, platform: PlatformSettings, settings: SupervisorSettings
) -> Endpoint:
    if uses_external_nats(platform):
        return Endpoint(platform.nats_url, None)
    server = NatsServer(
        store_dir=layout.nats_dir,
        host=settings.host,
        port=choose_port(settings.host, settings.nats_port),
    )
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        raise StartupError(str(exc)) from exc
    return Endpoint(server.url, server)


def start_postgres(
    layout: HomeLayout, platform: PlatformSettings, settings: SupervisorSettings
) -> Endpoint:
    if platform.database_url is not None:
        return Endpoint(platform.database_url, None)
    server = PostgresServer(
        base_dir=layout.postgres_dir,
        host=settings.host,
        port=choose_port(settings.host, settings.postgres_port),
        fsync=settings.postgres_fsync,
    )
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        raise StartupError(str(exc)) from exc
    return Endpoint(server.url(), server)


async def check_database(url: str, *, timeout: float = 10.0) -> None:
    """Fail with a readable reason unless PostgreSQL at `url` accepts a connection."""
    try:
        conn = await asyncpg.connect(url, timeout=timeout)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise StartupError(f"cannot reach PostgreSQL at {redact(url)}: {exc}") from exc
    await conn.close()


def redact(url: str) -> str:
    """`url` without its password, for screens and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
