"""The projection's one statement (`inbox_project`): all or nothing, and the API's JSON."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import select

from contracts.inbox.models import FeedEntryV1
from inbox.adapters.tables import conversations, messages
from inbox.service.project import project_batch
from inbox.service.records import conversation_json, message_json
from shared.db.errors import DatabaseUnavailable
from shared.runtime.postgres_server import PostgresServer
from shared.settings import PlatformSettings
from tests.inbox.conftest import Platform, connect_inbox_db
from tests.inbox.test_projection_batches import a_task, feed_of, inbox_of, rows


@pytest.fixture
async def holder(
    platform_settings: PlatformSettings, postgres_server: PostgresServer
) -> AsyncIterator[asyncpg.Connection]:
    """A second connection to inbox's database, to hold a lock the projection needs."""
    conn = await connect_inbox_db(platform_settings, postgres_server)
    yield conn
    await conn.close()


async def _waiting_for_a_lock(conn: asyncpg.Connection) -> int:
    for _ in range(500):
        pid = await conn.fetchval(
            "select pid from pg_stat_activity where application_name = 'inbox-projection'"
            " and wait_event_type = 'Lock'"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.01)
    raise AssertionError("the projection never waited for the feed's head")


async def test_a_batch_cut_off_mid_statement_leaves_nothing_and_comes_again_once(
    platform: Platform, inbox_db: asyncpg.Connection, holder: asyncpg.Connection
) -> None:
    ada = await platform.sign_up("ada")
    inbox = inbox_of(platform.inbox)
    events = a_task(ada.org_id, 2)
    await project_batch(inbox, events[:1])  # the org's head row exists from here on
    before = await rows(inbox_db, ada.org_id)
    feed_before = await feed_of(inbox_db, ada.org_id)

    # Hold the feed's head, which the statement takes last: every other write of the batch is
    # done when its connection is killed, and none of them may survive.
    async with holder.transaction():
        await holder.execute("select 1 from feed_heads where org_id = $1 for update", ada.org_id)
        batch = asyncio.create_task(project_batch(inbox, events[1:]))
        pid = await _waiting_for_a_lock(inbox_db)
        await inbox_db.execute("select pg_terminate_backend($1)", pid)
        with pytest.raises(DatabaseUnavailable):
            await batch
    assert await rows(inbox_db, ada.org_id) == before
    assert await feed_of(inbox_db, ada.org_id) == feed_before

    # The redelivery (twice, as JetStream may) is applied once, on a fresh connection.
    await project_batch(inbox, events[1:])
    await project_batch(inbox, events[1:])
    feed = [f for f in await feed_of(inbox_db, ada.org_id) if f not in feed_before]
    assert [seq for _, _, seq in feed] == [e.seq for e in events[1:]]
    numbers = [n for n, _, _ in await feed_of(inbox_db, ada.org_id)]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert len((await rows(inbox_db, ada.org_id))[1]) == len(events) - 1  # messages


async def test_the_feed_shows_rows_as_the_api_does(
    platform: Platform, inbox_db: asyncpg.Connection
) -> None:
    """The statement writes the entries' JSON itself; it must be `inbox.service.records`'s."""
    ada = await platform.sign_up("ada")
    inbox = inbox_of(platform.inbox)
    seen: list[FeedEntryV1] = []
    inbox.heard_here.append(seen.append)
    try:
        events = a_task(ada.org_id, 2)
        # Whole seconds and not: Python writes no fraction for the first, six digits else.
        later = [
            e.model_copy(update={"occurred_at": e.occurred_at + timedelta(microseconds=120)})
            for e in a_task(ada.org_id, 1)
        ]
        await project_batch(inbox, events)
        await project_batch(inbox, later)
    finally:
        inbox.heard_here.remove(seen.append)
    assert len(seen) == len(events) + len(later)
    async with inbox.db.transaction(org_id=ada.org_id) as uow:
        for entry in seen:
            conversation = (
                await uow.session.execute(
                    select(conversations).where(
                        conversations.c.conversation_id == entry.conversation_id
                    )
                )
            ).one()
            shown = entry.data.get("message")
            message_id = shown.get("message_id") if isinstance(shown, dict) else None
            last = entry is seen[len(events) - 1] or entry is seen[-1]
            if last:  # the rows as their task's last batch left them
                assert entry.data["conversation"] == conversation_json(conversation)
            if message_id is not None:
                message = (
                    await uow.session.execute(
                        select(messages).where(messages.c.message_id == message_id)
                    )
                ).one()
                assert entry.data["message"] == message_json(message)
