"""Tentacle's table definitions match its migration, and the migration goes down and up."""

from __future__ import annotations

import asyncio

from alembic import command

from shared.db.migrations import alembic_config, migrate
from tentacle.app import MIGRATIONS


async def test_the_tables_match_the_migration_and_it_reverses(database_url: str) -> None:
    await migrate(database_url, MIGRATIONS)
    config = alembic_config(MIGRATIONS, url=database_url)
    # `alembic check` autogenerates against tentacle's metadata: any drift raises.
    await asyncio.to_thread(command.check, config)
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "heads")
    await asyncio.to_thread(command.check, config)
