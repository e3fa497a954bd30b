"""Den's tables match their migration, and every tenant table is confined to its org."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command

from den.adapters.tables import TENANT_TABLES
from den.app import MIGRATIONS
from shared.db.migrations import alembic_config, migrate


async def test_tables_match_the_migration_and_tenant_tables_force_rls(database_url: str) -> None:
    await migrate(database_url, MIGRATIONS)
    # `alembic check` autogenerates against den's metadata: any drift raises.
    await asyncio.to_thread(command.check, alembic_config(MIGRATIONS, url=database_url))
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "select relname, relrowsecurity, relforcerowsecurity from pg_class "
            "where relname like 'den\\_%' and relkind = 'r'"
        )
    finally:
        await conn.close()
    flags = {r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"]) for r in rows}
    assert {t for t, f in flags.items() if f == (True, True)} == set(TENANT_TABLES)
    assert flags["den_sweeps"] == (False, False)  # ids of orgs to visit, platform scope
