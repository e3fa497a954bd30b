"""pytest fixtures: real servers for the session, clean state for every test.

* `nats_server` / `postgres_server`: one real nats-server (JetStream) and one real PostgreSQL per
  test session (per xdist worker), on free ports, in the session's temporary directory.
* `nats_url`: the session server, with every stream (and so every KV / object bucket) deleted
  after the test, so each test starts from an empty JetStream.
* `database_url`: a fresh database on the session server for the test, dropped afterwards.
* `platform_settings`: the `FLUXOS_` settings pointing at both, with strict contract reading
  and a database prefix of its own, so services started by the test get fresh databases (and
  roles), dropped afterwards.
* `running_service`: starts a real service in-process against those servers.
* `llm_stub`: a local OpenAI-compatible server with scripted replies.
* `nats_cluster`: three nodes with routes on loopback, for failover tests.

NATS and PostgreSQL are never mocked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import nats
import pytest
from nats.js.errors import NotFoundError
from pydantic import SecretStr

from contracts.ids import new_id
from shared.db.provisioning import drop_service_databases
from shared.runtime.nats_server import NatsCluster, NatsServer
from shared.runtime.postgres_server import PostgresServer
from shared.service import ServiceApp
from shared.settings import HttpServiceSettings, PlatformSettings, ServiceSettings
from shared.testing.llm_stub import OpenAIStub

# litellm must never reach for the network at import (CI has no internet).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(store_dir=tmp_path_factory.mktemp("nats"), name="test-nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Directly under /tmp rather than pytest's temporary root (mode 0700): where PostgreSQL
    # has to run as `nobody`, that user must be able to reach its directory.
    base = Path(tempfile.mkdtemp(prefix="fluxos-test-pg-"))
    base.chmod(0o711)  # traversable, not listable
    # fsync off: test data need not survive a power cut, and it makes DDL several times faster.
    server = PostgresServer(base_dir=base / "postgres", fsync=False)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


async def purge_jetstream(url: str) -> None:
    """Delete every stream on the server (KV and object buckets are streams too)."""
    nc = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
    try:
        js = nc.jetstream()
        for name in await js.streams_info():
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name.config.name or "")
    finally:
        await nc.close()


@pytest.fixture
async def nats_url(nats_server: NatsServer) -> AsyncIterator[str]:
    await purge_jetstream(nats_server.url)
    yield nats_server.url
    await purge_jetstream(nats_server.url)


@pytest.fixture
async def database_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh, empty database for this test (superuser URL)."""
    name = "t_" + new_id().replace("-", "")
    admin = await asyncpg.connect(postgres_server.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield postgres_server.url(name)
    admin = await asyncpg.connect(postgres_server.url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def platform_settings(
    nats_url: str, postgres_server: PostgresServer, tmp_path: Path
) -> AsyncIterator[PlatformSettings]:
    settings = PlatformSettings(
        nats_url=nats_url,
        database_url=postgres_server.url(),
        database_prefix="t" + new_id().replace("-", "")[-20:],
        secret_key=SecretStr("test-secret-" + new_id()),
        home=tmp_path / "home",
        strict_contracts=True,
        log_format="console",
        log_level="DEBUG",
    )
    yield settings
    await drop_service_databases(postgres_server.url(), settings.database_prefix)


StartService = Callable[..., Awaitable[ServiceApp]]


@pytest.fixture
async def running_service(platform_settings: PlatformSettings) -> AsyncIterator[StartService]:
    """`await running_service(build_app, SettingsClass, **overrides)`: a started service."""
    started: list[ServiceApp] = []

    async def start(
        build_app: Callable[[Any], ServiceApp],
        settings_class: type[ServiceSettings],
        **overrides: Any,
    ) -> ServiceApp:
        values: dict[str, Any] = {"platform": platform_settings, "shutdown_grace_seconds": 2.0}
        if issubclass(settings_class, HttpServiceSettings):
            values["http_port"] = 0
        values.update(overrides)
        app = build_app(settings_class(**values))
        started.append(app)
        await app.start()
        return app

    yield start
    for app in reversed(started):
        await app.stop()


@pytest.fixture
async def llm_stub() -> AsyncIterator[OpenAIStub]:
    """A local OpenAI-compatible server with scripted replies (litellm's real HTTP path)."""
    stub = OpenAIStub()
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    cluster = NatsCluster(base_dir=tmp_path / "cluster")
    cluster.start()
    yield cluster
    cluster.stop()
