"""A service told to stop after NATS died stops promptly, not after drain timeouts."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from contracts.platform.health import HealthCheckV1
from shared.bus import Bus
from shared.runtime.nats_server import NatsServer
from shared.runtime.postgres_server import PostgresServer
from shared.settings import PlatformSettings
from tests.services.conftest import SERVICES


@pytest.mark.parametrize("nats_dies", ["before", "together"])
async def test_sigterm_when_nats_dies_exits_within_a_few_seconds(
    tmp_path: Path, postgres_server: PostgresServer, nats_dies: str
) -> None:
    nats = NatsServer(store_dir=tmp_path / "nats")
    nats.start()
    settings = PlatformSettings(
        nats_url=nats.url,
        database_url=postgres_server.url(),
        database_prefix=f"tstop{nats_dies}",
        secret_key=SecretStr("stop-secret"),
    )
    svc = SERVICES[0]
    env = {
        **os.environ,
        "FLUXOS_NATS_URL": nats.url,
        "FLUXOS_DATABASE_URL": postgres_server.url(),
        "FLUXOS_DATABASE_PREFIX": f"tstop{nats_dies}",
        "FLUXOS_SECRET_KEY": "stop-secret",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", svc.name, env=env, stderr=asyncio.subprocess.DEVNULL
    )
    probe = await Bus(settings, name="probe").connect()
    try:
        await probe.request(svc.health, HealthCheckV1(), timeout=30)
        await probe.close()
        if nats_dies == "before":
            nats.kill()
            await asyncio.sleep(0.3)  # the service notices the disconnect
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        if nats_dies == "together":  # as when a killed supervisor's children all get SIGTERM
            nats.stop()
        code = await asyncio.wait_for(proc.wait(), 20)
        assert time.monotonic() - started < 5
        assert code == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        nats.stop()
        from shared.db.provisioning import drop_service_databases

        await drop_service_databases(postgres_server.url(), f"tstop{nats_dies}")
