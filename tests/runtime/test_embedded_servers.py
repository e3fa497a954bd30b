"""The embedded servers the platform and the harness are built on."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import asyncpg
import nats
import pytest

from shared.runtime.nats_server import NatsServer
from shared.runtime.postgres_server import PostgresServer


async def test_session_nats_has_jetstream(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits is not None
    finally:
        await nc.close()


async def test_each_test_gets_its_own_empty_database(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
        assert tables == 0
        assert await conn.fetchval("select current_database()") == database_url.rsplit("/", 1)[1]
        await conn.execute("create extension vector")
        distance = await conn.fetchval("select '[1,2,3]'::vector <-> '[1,2,4]'::vector")
        assert distance == 1.0
    finally:
        await conn.close()


async def test_postgres_keeps_data_across_restarts(tmp_path: Path) -> None:
    server = PostgresServer(base_dir=tmp_path / "pg", fsync=True)
    server.start()
    try:
        conn = await asyncpg.connect(server.url())
        await conn.execute("create table kept (v text); insert into kept values ('still here')")
        await conn.close()
        server.stop()
        assert not server.running()
        server.start()
        conn = await asyncpg.connect(server.url())
        assert await conn.fetchval("select v from kept") == "still here"
        await conn.close()
    finally:
        server.stop()


async def test_nats_keeps_streams_across_restarts(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats")
    server.start()
    try:
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await js.add_stream(name="KEPT", subjects=["kept.>"])
        await js.publish("kept.one", b"x")
        await nc.close()
        server.stop()
        server.start()
        nc = await nats.connect(server.url)
        info = await nc.jetstream().stream_info("KEPT")
        assert info.state.messages == 1
        await nc.close()
    finally:
        server.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="the privilege-drop fallback only exists for root")
def test_without_user_namespaces_root_runs_postgres_as_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shared.runtime.postgres_server as module

    monkeypatch.setattr(module, "_userns_works", lambda: False)
    open_dir = Path(tempfile.mkdtemp(prefix="fluxos-fallback-"))
    open_dir.chmod(0o711)
    try:
        server = PostgresServer(base_dir=open_dir / "pg", fsync=False)
        server.start()
        assert server.running()
        server.stop()
    finally:
        shutil.rmtree(open_dir, ignore_errors=True)

    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    with pytest.raises(RuntimeError, match="closed to other users"):
        PostgresServer(base_dir=closed / "pg", fsync=False).start()


async def test_every_declared_stream_fits_a_default_embedded_server(tmp_path: Path) -> None:
    # What `fluxos up` starts: a new stream declaration must never make provisioning fail.
    from contracts.registry import STREAMS
    from shared.bus import Bus
    from shared.bus.provisioning import ensure_streams
    from shared.settings import PlatformSettings

    server = NatsServer(store_dir=tmp_path / "nats")
    server.start()
    try:
        bus = await Bus(PlatformSettings(nats_url=server.url), name="fit").connect()
        try:
            await ensure_streams(bus.js, STREAMS, replicas=1)
            names = {info.config.name for info in await bus.js.streams_info()}
            assert {s.name for s in STREAMS} <= names
        finally:
            await bus.close()
    finally:
        server.stop()
