"""The send path's first write on its own pool: all of it or nothing, limits included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from contracts.mimic.models import SendNotificationV1, notification_id
from mimic.adapters import notifications as repo
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


@pytest.fixture
async def store(mimic: ServiceApp) -> AsyncIterator[SendStore]:
    db = mimic.db
    store = SendStore(
        lambda: to_asyncpg_dsn(db.url), lambda: db.publisher, size=2, lease=db.publish_lease
    )
    await store.connect()
    yield store
    await store.close()


def _values(command: SendNotificationV1, now: datetime) -> dict[str, Any]:
    nid = notification_id(ORG, command.idempotency_key)
    prepared = Prepared(Mailbox.parse(command.to.address, field="to"), None, "Your code", "t", None)
    return _sending_values(ORG, nid, command, prepared, now)


async def _record(store: SendStore, command: SendNotificationV1, now: datetime) -> str | None:
    """Run the fast first write as the service does."""
    counters = LIMITS.counters(
        org_id=ORG, channel=command.channel.value, recipient=command.to.address, now=now
    )
    async with store.statement(ORG) as one:
        return await send_writes.record_first(
            one, _values(command, now), provider="dev", counters=counters, now=now
        )


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


async def _accept_first(store: SendStore, command: SendNotificationV1, now: datetime) -> bool:
    params = repo.accept_params(
        org_id=ORG,
        notification_id=notification_id(ORG, command.idempotency_key),
        seq=1,
        provider="dev",
        provider_message_id="pm-1",
        delivered=True,
        now=now + timedelta(milliseconds=5),
    )
    async with store.statement(ORG) as one:
        return await send_writes.accept_first(one, params, _values(command, now))


async def test_the_one_statement_settlement_leaves_the_row_it_predicted(
    mimic: ServiceApp, store: SendStore
) -> None:
    # The events of a fast first send are built from `accepted_row` before the statement
    # runs: they must say exactly what the row then holds.
    now = datetime.now(UTC)
    command = otp_email("fast-1")
    assert await _record(store, command, now) is None
    assert await _accept_first(store, command, now)
    params = repo.accept_params(
        org_id=ORG,
        notification_id=notification_id(ORG, command.idempotency_key),
        seq=1,
        provider="dev",
        provider_message_id="pm-1",
        delivered=True,
        now=now + timedelta(milliseconds=5),
    )
    predicted = repo.to_model(send_writes.accepted_row(_values(command, now), params))
    async with mimic.db.transaction(org_id=ORG) as uow:
        row = await repo.get(uow.session, notification_id=predicted.notification_id)
        outcome = (
            await uow.session.execute(
                text("select outcome, provider_message_id from send_attempts")
            )
        ).one()
    assert row is not None
    assert repo.to_model(row) == predicted
    assert tuple(outcome) == ("accepted", "pm-1")


async def test_the_one_statement_settlement_writes_nothing_on_a_row_touched_since(
    mimic: ServiceApp, store: SendStore
) -> None:
    now = datetime.now(UTC)
    command = otp_email("fast-1")
    assert await _record(store, command, now) is None
    # A redelivery announced it meanwhile (what `_catch_up` does): the general way settles.
    async with mimic.db.transaction(org_id=ORG) as uow:
        await uow.session.execute(text("update notifications set announced = true"))
    assert not await _accept_first(store, command, now)
    async with mimic.db.transaction(org_id=ORG) as uow:
        status = (await uow.session.execute(text("select status from notifications"))).scalar()
        outcome = (await uow.session.execute(text("select outcome from send_attempts"))).scalar()
        known = (await uow.session.execute(text("select count(*) from provider_messages"))).scalar()
    assert (status, outcome, known) == ("sending", "calling", 0)
