"""Alembic wiring: the shared tables' migrations, then the service's, under one lock.

The outbox and processed-messages tables live in every service database but evolve in one
place, `shared/db/migrations/`, with their own version table; a service's own migrations live in
`<service>/migrations/` and their `env.py` is two lines::

    from shared.db.migrations import run_env
    run_env(target_metadata=None)  # or the service's MetaData, for autogenerate

`migrate()` applies both sets at start. Replicas starting together serialise on an advisory
lock; whoever comes second finds everything at head and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Final

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from shared.db.errors import DatabaseMisconfigured, translate
from shared.db.locks import advisory_key
from shared.db.tables import SHARED_TABLES, SHARED_VERSION_TABLE
from shared.db.tables import metadata as shared_metadata
from shared.db.urls import to_sqlalchemy_url

SHARED_MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
SERVICE_VERSION_TABLE: Final = "alembic_version"
MIGRATION_LOCK_KEY: Final = advisory_key("db.migrate")


def alembic_config(
    script_location: Path | str, *, connection: Connection | None = None, url: str | None = None
) -> Config:
    """A Config for one migration set, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    if url is not None:
        config.set_main_option("sqlalchemy.url", to_sqlalchemy_url(url).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, script_location: Path) -> None:
    # "heads": a service may grow independent branches (tentacle: tasks, and workspace/memory).
    command.upgrade(alembic_config(script_location, connection=connection), "heads")


async def _run_locked(conn: AsyncConnection, sets: list[Path], lock_timeout: float) -> None:
    await conn.execute(
        text("select set_config('lock_timeout', :ms, false)"), {"ms": f"{int(lock_timeout * 1000)}"}
    )
    await conn.execute(text("select pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    await conn.execute(text("select set_config('lock_timeout', '0', false)"))
    # Commit so alembic finds no open transaction and runs each set in its own, committed one.
    await conn.commit()
    try:
        for script_location in sets:
            await conn.run_sync(_upgrade, script_location)
            await conn.commit()
    finally:
        # Closing the connection releases the lock too; unlocking is only tidier when it works.
        with contextlib.suppress(SQLAlchemyError, OSError):
            await conn.rollback()
            await conn.execute(text("select pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await conn.commit()


async def migrate(
    url: str, service_migrations_dir: Path | str | None = None, *, lock_timeout: float = 300.0
) -> None:
    """Bring the database at `url` to head: shared tables first, then the service's own.

    Run it as the service's role, so the tables it creates are owned by that role (and row-level
    security is forced on the owner). Safe to run repeatedly and from many processes at once.
    """
    sets = [SHARED_MIGRATIONS_DIR]
    if service_migrations_dir is not None:
        service_dir = Path(service_migrations_dir)
        if not (service_dir / "env.py").is_file():
            raise DatabaseMisconfigured(f"no alembic env.py in {service_dir}")
        sets.append(service_dir)
    engine = create_async_engine(
        to_sqlalchemy_url(url),
        poolclass=pool.NullPool,
        # Migrations may legitimately run long; the runtime's statement timeout is not for them.
        connect_args={
            "server_settings": {"application_name": "fluxos-migrate", "statement_timeout": "0"}
        },
    )
    try:
        async with engine.connect() as conn:
            await _run_locked(conn, sets, lock_timeout)
    except (SQLAlchemyError, OSError) as exc:
        transient = translate(exc)
        if transient is None:
            raise
        raise transient from exc
    finally:
        await engine.dispose()


# ----------------------------------------------------------------------------- env.py side
RUNTIME_INDEX_PREFIXES: Final = ("wsx_",)
"""Indexes a service creates and drops while it runs, outside migrations (tentacle's indexes of
the fields a workspace type marks indexed): not drift, and never for a migration to drop."""


def _include_name(shared: bool) -> Any:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "index" and name is not None and name.startswith(RUNTIME_INDEX_PREFIXES):
            return False
        if type_ != "table":
            return True
        # Each set sees only its own tables, or autogenerate would propose dropping the others'.
        return (name in SHARED_TABLES) is shared

    return include_name


def _configure_and_run(*, shared: bool, target_metadata: MetaData | None, **options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=SHARED_VERSION_TABLE if shared else SERVICE_VERSION_TABLE,
        include_name=_include_name(shared),
        compare_type=True,
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_url(url: str, *, shared: bool, target_metadata: MetaData | None) -> None:
    engine = create_async_engine(to_sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(
                lambda sync: _configure_and_run(
                    shared=shared, target_metadata=target_metadata, connection=sync
                )
            )
            await conn.commit()
    finally:
        await engine.dispose()


def _url_for_cli() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise DatabaseMisconfigured("no database: pass `alembic -x url=postgresql://...`")
    return url


def _run_env(*, shared: bool, target_metadata: MetaData | None) -> None:
    if context.is_offline_mode():
        _configure_and_run(
            shared=shared,
            target_metadata=target_metadata,
            url=_url_for_cli(),
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
        )
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(shared=shared, target_metadata=target_metadata, connection=connection)
        return
    # The alembic command line (revision --autogenerate, history, ...): no loop is running.
    asyncio.run(_run_with_url(_url_for_cli(), shared=shared, target_metadata=target_metadata))


def run_env(target_metadata: MetaData | None = None) -> None:
    """The whole body of a service's `migrations/env.py`."""
    _run_env(shared=False, target_metadata=target_metadata)


def run_shared_env() -> None:
    """The body of `shared/db/migrations/env.py`."""
    _run_env(shared=True, target_metadata=shared_metadata)
