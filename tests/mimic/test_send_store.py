"""The send path's first write on its own pool: all of it or nothing, limits included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from contracts.mimic.models import SendNotificationV1, notification_id
from mimic.adapters import send_writes
from mimic.adapters.send_store import SendStore
from mimic.domain.email import Mailbox
from mimic.domain.ratelimit import Limits
from mimic.service.send_notification import _sending_values
from mimic.service.send_plan import Prepared
from shared.db.urls import to_asyncpg_dsn
from shared.service import ServiceApp
from tests.mimic.conftest import ORG, otp_email

LIMITS = Limits.of(recipient_per_hour=1, org_per_minute=100, channel_per_minute=100)


class _Refused(Exception):
    pass


@pytest.fixture
async def store(mimic: ServiceApp) -> AsyncIterator[SendStore]:
    db = mimic.db
    store = SendStore(
        lambda: to_asyncpg_dsn(db.url), lambda: db.publisher, size=2, lease=db.publish_lease
    )
    await store.connect()
    yield store
    await store.close()


async def _record(store: SendStore, command: SendNotificationV1, now: datetime) -> str | None:
    """Run the fast first write as the service does: roll back unless all of it applied."""
    nid = notification_id(ORG, command.idempotency_key)
    prepared = Prepared(Mailbox.parse(command.to.address, field="to"), None, "Your code", "t", None)
    counters = LIMITS.counters(
        org_id=ORG, channel=command.channel.value, recipient=command.to.address, now=now
    )
    try:
        async with store.transaction(ORG) as tx:
            refused = await send_writes.record_first(
                tx,
                _sending_values(ORG, nid, command, prepared, now),
                provider="dev",
                counters=counters,
                now=now,
            )
            if refused is not None:
                raise _Refused(refused)
    except _Refused as why:
        return str(why)
    return None


async def _counts(mimic: ServiceApp) -> tuple[int, int, list[int]]:
    async with mimic.db.transaction(org_id=ORG) as uow:
        rows = (await uow.session.execute(text("select count(*) from notifications"))).scalar()
        calls = (await uow.session.execute(text("select count(*) from send_attempts"))).scalar()
        charged = (
            await uow.session.execute(text("select count from rate_counters order by scope"))
        ).scalars()
        return int(rows or 0), int(calls or 0), list(charged)


async def test_the_first_write_records_journals_and_charges_in_one_go(
    mimic: ServiceApp, store: SendStore
) -> None:
    now = datetime.now(UTC)
    assert await _record(store, otp_email("fast-1"), now) is None
    assert await _counts(mimic) == (1, 1, [1, 1, 1])  # channel, org, recipient


async def test_a_full_limit_rolls_back_the_whole_first_write(
    mimic: ServiceApp, store: SendStore
) -> None:
    now = datetime.now(UTC)
    assert await _record(store, otp_email("fast-1"), now) is None
    # The recipient's hourly limit of one is used: nothing of the second is kept, not even the
    # charges of the limits that had room.
    assert await _record(store, otp_email("fast-2"), now) == "full"
    assert await _counts(mimic) == (1, 1, [1, 1, 1])


async def test_a_repeated_key_writes_nothing_and_charges_nothing(
    mimic: ServiceApp, store: SendStore
) -> None:
    now = datetime.now(UTC)
    assert await _record(store, otp_email("fast-1"), now) is None
    assert await _record(store, otp_email("fast-1"), now) == "exists"
    assert await _counts(mimic) == (1, 1, [1, 1, 1])
