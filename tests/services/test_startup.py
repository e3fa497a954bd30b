"""Every service starts, migrates its own database, provisions streams, answers health, stops."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from contracts.platform.health import HealthCheckV1, HealthStatus
from contracts.registry import STREAMS
from shared.bus import Bus, BusUnavailable
from shared.db.urls import derive_service_database
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService
from tests.services.conftest import IDS, SERVICES, ServiceUnderTest


@pytest.fixture
async def probe(platform_settings: PlatformSettings) -> AsyncIterator[Bus]:
    bus = await Bus(platform_settings, name="probe").connect()
    yield bus
    await bus.close()


@pytest.mark.parametrize("svc", SERVICES, ids=IDS)
async def test_a_service_starts_and_reports_healthy(
    svc: ServiceUnderTest,
    running_service: StartService,
    probe: Bus,
    platform_settings: PlatformSettings,
) -> None:
    app = await running_service(svc.build_app, svc.settings, db_pool_size=3, db_max_overflow=2)
    # The operator's pool settings reach the service's engine (a busy consumer needs more).
    assert app.db.engine.pool.size() == 3  # type: ignore[attr-defined]
    assert app.db.engine.pool._max_overflow == 2  # type: ignore[attr-defined]

    health = await probe.request(svc.health, HealthCheckV1())
    assert health.service == svc.name
    assert health.status is HealthStatus.OK
    assert health.checks["database"].ok
    assert health.checks["bus"].ok

    # Its own database, owned by its own role, with the shared tables migrated in.
    target = derive_service_database(platform_settings, svc.name)
    conn = await asyncpg.connect(target.url.replace("+asyncpg", ""))
    try:
        assert await conn.fetchval("select current_user") == target.role
        tables = {r["tablename"] for r in await conn.fetch("select tablename from pg_tables")}
        assert {"fluxos_outbox", "fluxos_processed_messages"} <= tables
    finally:
        await conn.close()

    # Every declared stream exists.
    names = {info.config.name for info in await probe.js.streams_info()}
    assert {s.name for s in STREAMS} <= names

    if svc.http:
        assert health.http_url is not None
        assert health.http_url == app.http_url
        async with httpx.AsyncClient(base_url=health.http_url) as http:
            assert (await http.get("/health")).status_code == 200
            ready = await http.get("/ready")
            assert ready.status_code == 200
            assert ready.json()["status"] == "ok"


async def test_all_services_run_side_by_side_and_a_restart_keeps_their_data(
    running_service: StartService, probe: Bus
) -> None:
    apps = [await running_service(s.build_app, s.settings) for s in SERVICES]
    for svc in SERVICES:
        assert (await probe.request(svc.health, HealthCheckV1())).status is HealthStatus.OK
    # A row in a service's database survives the service stopping and starting again.
    tentacle = apps[0]
    async with tentacle.db.transaction() as uow:
        await uow.session.execute(text("create table kept (v text)"))
        await uow.session.execute(text("insert into kept values ('x')"))
    await tentacle.stop()
    again = await running_service(SERVICES[0].build_app, SERVICES[0].settings)
    async with again.db.transaction() as uow:
        value = await uow.session.scalar(text("select v from kept"))
    assert value == "x"


async def test_a_stopped_service_stops_answering(running_service: StartService, probe: Bus) -> None:
    svc = SERVICES[1]
    app = await running_service(svc.build_app, svc.settings)
    await app.stop()
    with pytest.raises(BusUnavailable):
        await probe.request(svc.health, HealthCheckV1(), timeout=1)


def _env(settings: PlatformSettings, svc: str) -> dict[str, str]:
    assert settings.database_url is not None
    assert settings.secret_key is not None
    env = dict(os.environ)
    env.update(
        {
            "FLUXOS_NATS_URL": settings.nats_url,
            "FLUXOS_DATABASE_URL": settings.database_url,
            "FLUXOS_DATABASE_PREFIX": settings.database_prefix,
            "FLUXOS_SECRET_KEY": settings.secret_key.get_secret_value(),
            "FLUXOS_LOG_FORMAT": "json",
            f"{svc.upper()}_HTTP_PORT": "0",
        }
    )
    return env


@pytest.mark.parametrize("svc", SERVICES, ids=IDS)
async def test_python_m_service_runs_and_exits_cleanly_on_sigterm(
    svc: ServiceUnderTest, platform_settings: PlatformSettings, probe: Bus
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        svc.name,
        env=_env(platform_settings, svc.name),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    logs = asyncio.create_task(proc.stderr.read())
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.returncode is None, (await logs).decode()
            try:
                health = await probe.request(svc.health, HealthCheckV1(), timeout=1)
                if health.status is HealthStatus.OK:
                    break
            except BusUnavailable:
                pass
            assert time.monotonic() < deadline, "service did not become healthy"
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 15)
        output = (await logs).decode()
        assert code == 0, output
        assert '"event": "service.stopped"' in output
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
