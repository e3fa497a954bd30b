"""Fixtures for the database helpers: provisioned service databases, migrations, JetStream."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from pydantic import SecretStr

from contracts.ids import new_id
from shared.bus.codec import OutboundMessage
from shared.db.database import Database
from shared.db.migrations import migrate
from shared.db.provisioning import drop_service_databases, ensure_service_database
from shared.db.urls import ServiceDatabase, derive_service_database
from shared.runtime.postgres_server import PostgresServer
from shared.settings import PlatformSettings

TEST_SECRET = "correct horse battery staple"
STREAM = "OUTBOXTEST"

TENANT_MIGRATION = '''
"""A tenant table with row-level security, and a log proving how often upgrade ran."""

import sqlalchemy as sa
from alembic import op

from shared.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "svc_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    enable_tenant_rls("notes")
    op.create_table("upgrade_runs", sa.Column("ran_at", sa.DateTime(timezone=True)))
    op.execute("insert into upgrade_runs values (clock_timestamp())")


def downgrade() -> None:
    disable_tenant_rls("notes")
    op.drop_table("upgrade_runs")
    op.drop_table("notes")
'''


def write_service_migrations(root: Path) -> Path:
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(
        "from shared.db.migrations import run_env\n\nrun_env()\n", encoding="utf-8"
    )
    (root / "versions" / "svc_0001_notes.py").write_text(
        textwrap.dedent(TENANT_MIGRATION), encoding="utf-8"
    )
    return root


@pytest.fixture
def admin_url(postgres_server: PostgresServer) -> str:
    return postgres_server.url()


@pytest.fixture
async def db_prefix(admin_url: str) -> AsyncIterator[str]:
    """A prefix no other test uses; everything created under it is dropped afterwards."""
    prefix = "t" + new_id().replace("-", "")[-12:]
    yield prefix
    await drop_service_databases(admin_url, prefix)


@pytest.fixture
def secret_platform(admin_url: str, db_prefix: str) -> PlatformSettings:
    return PlatformSettings(
        database_url=admin_url, database_prefix=db_prefix, secret_key=SecretStr(TEST_SECRET)
    )


async def provision(platform: PlatformSettings, service: str) -> ServiceDatabase:
    target = derive_service_database(platform, service)
    await ensure_service_database(
        target.admin_url, database=target.name, role=target.role, password=target.password
    )
    return target


@pytest.fixture
def service_migrations(tmp_path: Path) -> Path:
    return write_service_migrations(tmp_path / "svc_migrations")


@pytest.fixture
async def notes_db(
    secret_platform: PlatformSettings, service_migrations: Path
) -> AsyncIterator[Database]:
    """A provisioned service database, migrated as its own role, with the tenant table."""
    target = await provision(secret_platform, "notes")
    await migrate(target.url, service_migrations)
    db = Database(target.url, pool_size=2, max_overflow=0)
    await db.connect()
    yield db
    await db.dispose()


@pytest.fixture
async def shared_db(database_url: str) -> AsyncIterator[Database]:
    """A fresh database with only the shared tables, for outbox and dedupe tests."""
    await migrate(database_url)
    db = Database(database_url, pool_size=4, max_overflow=4)
    await db.connect()
    yield db
    await db.dispose()


@pytest.fixture
async def js(nats_url: str) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["test.>"])
    yield js
    await nc.close()


JsPublisher = Callable[[OutboundMessage], Awaitable[None]]


@pytest.fixture
def js_publisher(js: JetStreamContext) -> JsPublisher:
    async def publish(msg: OutboundMessage) -> None:
        await js.publish(msg.subject, msg.body, headers=msg.headers)

    return publish
