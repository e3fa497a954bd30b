"""Shared and service migrations applied together: repeatable and serialised."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from shared.db.errors import DatabaseMisconfigured
from shared.db.migrations import (
    MIGRATION_LOCK_KEY,
    SERVICE_VERSION_TABLE,
    SHARED_MIGRATIONS_DIR,
    alembic_config,
    migrate,
)
from shared.db.tables import SHARED_VERSION_TABLE
from shared.db.urls import to_asyncpg_dsn
from shared.settings import PlatformSettings
from tests.shared.db.conftest import provision, write_service_migrations

VERSION_QUERIES = {
    SHARED_VERSION_TABLE: "select version_num from fluxos_shared_alembic_version",
    SERVICE_VERSION_TABLE: "select version_num from alembic_version",
}


async def snapshot(url: str) -> dict[str, object]:
    conn = await asyncpg.connect(to_asyncpg_dsn(url))
    try:
        tables = await conn.fetch(
            "select tablename, tableowner from pg_tables where schemaname = 'public' "
            "order by tablename"
        )
        state: dict[str, object] = {"tables": {r["tablename"]: r["tableowner"] for r in tables}}
        for version_table, query in VERSION_QUERIES.items():
            if version_table in state["tables"]:  # type: ignore[operator]
                state[version_table] = [r[0] for r in await conn.fetch(query)]
        if "upgrade_runs" in state["tables"]:  # type: ignore[operator]
            state["upgrade_runs"] = await conn.fetchval("select count(*) from upgrade_runs")
        return state
    finally:
        await conn.close()


async def test_shared_tables_get_their_own_version_table(database_url: str) -> None:
    await migrate(database_url)
    state = await snapshot(database_url)
    assert set(state["tables"]) == {  # type: ignore[call-overload]
        "fluxos_outbox",
        "fluxos_processed_messages",
        SHARED_VERSION_TABLE,
    }
    assert state[SHARED_VERSION_TABLE] == ["shared_0001"]


async def test_migrate_applies_shared_then_service_sets_as_the_service_role(
    secret_platform: PlatformSettings, service_migrations: Path
) -> None:
    target = await provision(secret_platform, "notes")
    await migrate(target.url, service_migrations)
    state = await snapshot(target.url)
    owned_by_service = (
        "alembic_version",
        "fluxos_outbox",
        "fluxos_processed_messages",
        SHARED_VERSION_TABLE,
        "notes",
        "upgrade_runs",
    )
    assert state["tables"] == dict.fromkeys(owned_by_service, target.role)
    assert state[SHARED_VERSION_TABLE] == ["shared_0001"]
    assert state[SERVICE_VERSION_TABLE] == ["svc_0001"]


async def test_migrate_is_idempotent(database_url: str, service_migrations: Path) -> None:
    await migrate(database_url, service_migrations)
    first = await snapshot(database_url)
    await migrate(database_url, service_migrations)
    await migrate(database_url, service_migrations)
    assert await snapshot(database_url) == first
    assert first["upgrade_runs"] == 1


async def test_concurrent_starters_migrate_once(
    database_url: str, service_migrations: Path
) -> None:
    await asyncio.gather(*(migrate(database_url, service_migrations) for _ in range(4)))
    state = await snapshot(database_url)
    assert state["upgrade_runs"] == 1
    assert state[SERVICE_VERSION_TABLE] == ["svc_0001"]


async def test_migrate_waits_for_the_lock_holder(
    database_url: str, service_migrations: Path
) -> None:
    holder = await asyncpg.connect(database_url)
    try:
        await holder.execute("select pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        task = asyncio.create_task(migrate(database_url, service_migrations))
        for _ in range(1000):
            waiting = await holder.fetchval(
                "select count(*) from pg_locks where locktype = 'advisory' and not granted "
                "and database = (select oid from pg_database where datname = current_database())"
            )
            if waiting or task.done():
                break
            await asyncio.sleep(0.005)
        assert waiting == 1
        assert not task.done()
        assert "upgrade_runs" not in (await snapshot(database_url))["tables"]  # type: ignore[operator]
        await holder.execute("select pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        await asyncio.wait_for(task, 30)
    finally:
        await holder.close()
    assert (await snapshot(database_url))["upgrade_runs"] == 1


async def test_a_later_service_revision_is_applied_on_the_next_start(
    database_url: str, tmp_path: Path
) -> None:
    migrations = write_service_migrations(tmp_path / "m")
    await migrate(database_url, migrations)
    (migrations / "versions" / "svc_0002_tags.py").write_text(
        'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "svc_0002"\n'
        'down_revision = "svc_0001"\n\n\ndef upgrade() -> None:\n'
        '    op.add_column("notes", sa.Column("tag", sa.Text()))\n\n\n'
        'def downgrade() -> None:\n    op.drop_column("notes", "tag")\n',
        encoding="utf-8",
    )
    await migrate(database_url, migrations)
    state = await snapshot(database_url)
    assert state[SERVICE_VERSION_TABLE] == ["svc_0002"]
    assert state[SHARED_VERSION_TABLE] == ["shared_0001"]


async def test_a_directory_without_env_py_is_refused(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(DatabaseMisconfigured):
        await migrate(database_url, tmp_path)


def test_shared_migrations_go_down_and_up_again_from_the_command_line(database_url: str) -> None:
    # The CLI path (no connection handed in): what `alembic -x url=...` does for authors.
    config = alembic_config(SHARED_MIGRATIONS_DIR, url=database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    state = asyncio.run(snapshot(database_url))
    assert state[SHARED_VERSION_TABLE] == ["shared_0001"]


def test_shared_table_definitions_match_their_migrations(database_url: str) -> None:
    # `alembic check` autogenerates against the code's tables: any drift raises.
    config = alembic_config(SHARED_MIGRATIONS_DIR, url=database_url)
    command.upgrade(config, "head")
    command.check(config)


SERVICE_ENV_WITH_METADATA = """
import sqlalchemy as sa

from shared.db.migrations import run_env

metadata = sa.MetaData()
sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
    sa.Column("org_id", sa.Text(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
)
sa.Table("upgrade_runs", metadata, sa.Column("ran_at", sa.DateTime(timezone=True)))
run_env(metadata)
"""


async def test_service_autogenerate_leaves_the_shared_tables_alone(
    database_url: str, service_migrations: Path
) -> None:
    await migrate(database_url, service_migrations)
    (service_migrations / "env.py").write_text(SERVICE_ENV_WITH_METADATA, encoding="utf-8")
    # Without the filter, autogenerate would see the outbox tables as unknown and drop them.
    await asyncio.to_thread(command.check, alembic_config(service_migrations, url=database_url))
