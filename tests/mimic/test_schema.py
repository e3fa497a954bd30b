"""mimic's tables match their migration, tenant tables are confined by organisation, and the
migration goes down and up again."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command

from mimic.adapters.tables import TENANT_TABLES
from mimic.app import MIGRATIONS
from shared.db.migrations import alembic_config, migrate


async def test_tables_match_the_migration_and_tenant_tables_have_rls(database_url: str) -> None:
    await migrate(database_url, MIGRATIONS)
    config = alembic_config(MIGRATIONS, url=database_url)
    await asyncio.to_thread(command.check, config)  # autogenerate finds no drift
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "select relname, relrowsecurity, relforcerowsecurity from pg_class "
            "where relkind = 'r' and relnamespace = 'public'::regnamespace"
        )
    finally:
        await conn.close()
    forced = {r["relname"] for r in rows if r["relrowsecurity"] and r["relforcerowsecurity"]}
    assert forced == set(TENANT_TABLES)
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "head")
