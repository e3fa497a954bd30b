"""The Database runtime: lazy connection, health, timeouts, commit and rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db.database import Database
from shared.db.errors import DatabaseTimeout, DatabaseUnavailable, InvalidOrgId


async def test_nothing_connects_before_connect() -> None:
    db = Database("postgresql://u:p@127.0.0.1:1/nowhere", connect_timeout=2)
    assert not db.connected
    with pytest.raises(DatabaseUnavailable):
        await db.ping()
    with pytest.raises(DatabaseUnavailable) as info:
        await db.connect()
    assert info.value.code == "db.unavailable"
    assert not db.connected


async def test_ping_measures_a_round_trip(database_url: str) -> None:
    db = Database(database_url)
    await db.connect()
    try:
        latency = await db.ping()
        assert 0 < latency < 5
    finally:
        await db.dispose()
    assert not db.connected


async def test_connections_carry_timeouts_and_name(database_url: str) -> None:
    db = Database(
        database_url,
        statement_timeout=0.2,
        idle_in_transaction_timeout=7,
        application_name="notes-1",
    )
    await db.connect()
    try:
        async with db.transaction() as uow:
            settings = (
                await uow.session.execute(
                    text(
                        "select current_setting('statement_timeout'), "
                        "current_setting('idle_in_transaction_session_timeout'), "
                        "current_setting('application_name')"
                    )
                )
            ).one()
        assert tuple(settings) == ("200ms", "7s", "notes-1")
        with pytest.raises(DatabaseTimeout) as info:
            async with db.transaction() as uow:
                await uow.session.execute(text("select pg_sleep(5)"))
        assert info.value.retryable
    finally:
        await db.dispose()


async def test_pool_is_sized_from_parameters(database_url: str) -> None:
    db = Database(database_url, pool_size=3, max_overflow=2, pool_timeout=0.2)
    await db.connect()
    try:
        assert db.engine.pool.size() == 3  # type: ignore[attr-defined]
        holders = [await db.engine.connect() for _ in range(5)]
        try:
            with pytest.raises(DatabaseUnavailable):
                async with db.transaction() as uow:
                    await uow.session.execute(text("select 1"))
        finally:
            for conn in holders:
                await conn.close()
    finally:
        await db.dispose()


async def test_commits_on_success_and_rolls_back_on_error(database_url: str) -> None:
    db = Database(database_url)
    await db.connect()
    try:
        async with db.transaction() as uow:
            await uow.session.execute(text("create table kv (k text primary key)"))
            await uow.session.execute(text("insert into kv values ('kept')"))

        async def failing_handler() -> None:
            async with db.transaction() as uow:
                await uow.session.execute(text("insert into kv values ('lost')"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await failing_handler()
        async with db.transaction() as uow:
            rows = (await uow.session.execute(text("select k from kv"))).scalars().all()
        assert rows == ["kept"]
    finally:
        await db.dispose()


async def test_os_errors_of_the_block_are_not_blamed_on_the_database(database_url: str) -> None:
    db = Database(database_url)
    await db.connect()

    async def reads_a_missing_file() -> None:
        async with db.transaction():
            raise FileNotFoundError("not the database")

    try:
        with pytest.raises(FileNotFoundError):
            await reads_a_missing_file()
    finally:
        await db.dispose()


@pytest.mark.parametrize("org_id", ["", "acme.>", "a b", "*", "x" * 129])
async def test_org_ids_are_validated_before_anything_runs(org_id: str) -> None:
    db = Database("postgresql://u:p@127.0.0.1:1/never")
    with pytest.raises(InvalidOrgId) as info:
        async with db.transaction(org_id=org_id):
            pass
    assert info.value.code == "db.invalid_org_id"


@pytest.mark.parametrize("pre_ping", [True, False])
async def test_a_connection_killed_by_the_server(
    database_url: str, admin_url: str, pre_ping: bool
) -> None:
    db = Database(database_url, pool_size=1, max_overflow=0, pre_ping=pre_ping)
    await db.connect()
    try:
        async with db.transaction() as uow:
            pid = await uow.session.scalar(text("select pg_backend_pid()"))
        admin = Database(admin_url)
        await admin.connect()
        try:
            async with admin.transaction() as uow:
                await uow.session.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await admin.dispose()

        async def next_transaction() -> int:
            async with db.transaction() as uow:
                new_pid: int = await uow.session.scalar(text("select pg_backend_pid()"))
            return new_pid

        if pre_ping:  # the dead connection is noticed at checkout and replaced
            assert await next_transaction() != pid
        else:  # the failure is reported as retryable, and the pool recovers for the retry
            with pytest.raises(DatabaseUnavailable):
                await next_transaction()
            assert await next_transaction() != pid
    finally:
        await db.dispose()
