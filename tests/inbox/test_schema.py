"""The inbox's table definitions match its migration, and the migration goes down and up."""

from __future__ import annotations

import asyncio

from alembic import command

from inbox.app import MIGRATIONS
from shared.db.migrations import alembic_config, migrate


async def test_the_tables_match_the_migration_and_it_reverses(database_url: str) -> None:
    await migrate(database_url, MIGRATIONS)
    config = alembic_config(MIGRATIONS, url=database_url)
    await asyncio.to_thread(command.check, config)
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "heads")
    await asyncio.to_thread(command.check, config)
