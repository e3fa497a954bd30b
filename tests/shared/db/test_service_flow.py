"""How a service uses the helpers end to end: settings -> database -> migrate -> handler."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from nats.js import JetStreamContext
from sqlalchemy import text

from contracts.ids import new_id
from shared.db import Database, OutboxRelay, migrate, prepare_service_database
from shared.settings import PlatformSettings, ServiceSettings
from tests.shared.db.conftest import JsPublisher
from tests.shared.db.streams import message, stream_messages


class NotesSettings(ServiceSettings):
    service_name: ClassVar[str] = "notes"


async def test_a_service_starts_and_handles_a_redelivered_command(
    secret_platform: PlatformSettings,
    service_migrations: Path,
    js: JetStreamContext,
    js_publisher: JsPublisher,
) -> None:
    settings = NotesSettings(platform=secret_platform)
    url = await prepare_service_database(settings)
    assert f"{secret_platform.database_prefix}_notes" in url
    await migrate(url, service_migrations)
    db = Database(url, pool_size=2, application_name="notes-test", publisher=js_publisher)
    await db.connect()
    try:
        command_id = new_id()

        async def handle(org_id: str) -> None:
            async with db.transaction(org_id=org_id) as uow:
                if not await uow.claim_message("notes-create", command_id):
                    return
                await uow.session.execute(
                    text("insert into notes (org_id, body) values (:org, 'hello')"),
                    {"org": org_id},
                )
                uow.publish(message(f"test.{org_id}.note_created"))

        for _ in range(2):  # JetStream redelivers the same command
            await handle("acme")

        async with db.transaction(org_id="acme") as uow:
            assert await uow.session.scalar(text("select count(*) from notes")) == 1
        async with db.transaction(org_id="globex") as uow:
            assert await uow.session.scalar(text("select count(*) from notes")) == 0
        assert [m.subject for m in await stream_messages(js)] == ["test.acme.note_created"]
        assert await OutboxRelay(db).drain() == 0  # published after commit already
    finally:
        await db.dispose()


async def test_an_explicit_service_url_is_used_without_provisioning(
    secret_platform: PlatformSettings, database_url: str
) -> None:
    settings = NotesSettings(platform=secret_platform, database_url=database_url)
    url = await prepare_service_database(settings)
    assert url == database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    db = Database(url)
    await db.connect()
    try:
        await db.ping()
    finally:
        await db.dispose()
    # Nothing was created under the prefix: the operator owns that database.
    admin = Database(secret_platform.database_url or "")
    await admin.connect()
    try:
        async with admin.transaction() as uow:
            count = await uow.session.scalar(
                text("select count(*) from pg_database where starts_with(datname, :p)"),
                {"p": secret_platform.database_prefix + "_"},
            )
        assert count == 0
    finally:
        await admin.dispose()
