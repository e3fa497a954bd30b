"""The org's time zone in tentacle: schedules without a zone of their own follow inkpass's org
settings events (latest version wins) and carry on from their next occurrence in the new zone;
Flux reads 'today' and 'tomorrow' in it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contracts.ids import new_id
from contracts.inkpass.models import OrgSettingsV1
from contracts.inkpass.subjects import ORG_SETTINGS_CHANGED
from contracts.tentacle.chat import ChatEventKind
from contracts.tentacle.schedules import (
    ORG_ZONES_CONSUMER,
    SCHEDULE_CREATE,
    SCHEDULE_GET,
    SCHEDULE_UPDATE,
    CreateScheduleV1,
    ScheduleRefV1,
    ScheduleV1,
    UpdateScheduleV1,
)
from shared.bus import Bus, RemoteError
from shared.service import ServiceApp
from tests.tentacle.chat_client import ChatClient, text_of
from tests.tentacle.conftest import ORG, USER, Caller

START = datetime(2030, 1, 1, tzinfo=UTC)  # winter: Paris is UTC+1, New York UTC-5


def at(hour: int) -> datetime:
    return datetime(2030, 1, 1, hour, tzinfo=UTC)


async def make(caller: Caller, **fields: Any) -> ScheduleV1:
    request = CreateScheduleV1(goal="Morning summary", cron="0 9 * * *", start_at=START, **fields)
    result: ScheduleV1 = await caller.ask(SCHEDULE_CREATE, request)
    return result


async def fetch(caller: Caller, schedule_id: str) -> ScheduleV1:
    result: ScheduleV1 = await caller.ask(SCHEDULE_GET, ScheduleRefV1(schedule_id=schedule_id))
    return result


async def announce(bus: Bus, timezone: str, version: int, org_id: str = ORG) -> None:
    """What inkpass publishes when an org's settings change."""
    settings = OrgSettingsV1(org_id=org_id, name="Acme", timezone=timezone, version=version)
    await bus.publish(ORG_SETTINGS_CHANGED, settings, org_id=org_id)


async def settled(bus: Bus) -> None:
    """Until tentacle has handled every settings event published so far."""
    spec = ORG_ZONES_CONSUMER
    for _ in range(300):
        info = await bus.js.consumer_info(spec.stream.name, spec.durable)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("tentacle did not handle the org settings events")


async def test_a_schedule_without_a_zone_follows_the_orgs(
    tentacle: ServiceApp, caller: Caller, stranger: Caller, bus: Bus
) -> None:
    follower = await make(caller)
    assert (follower.timezone, follower.follows_org_zone) == ("UTC", True)
    assert follower.next_run_at == at(9)
    own = await make(caller, timezone="America/New_York")
    assert not own.follows_org_zone
    elsewhere = await make(stranger)

    await announce(bus, "Europe/Paris", version=2)
    await settled(bus)
    moved = await fetch(caller, follower.schedule_id)
    assert (moved.timezone, moved.next_run_at) == ("Europe/Paris", at(8))
    assert moved.version == follower.version + 1
    assert await fetch(caller, own.schedule_id) == own  # a zone of its own stays
    assert await fetch(stranger, elsewhere.schedule_id) == elsewhere  # another org's stays

    # A late, older announcement changes nothing; a new schedule starts in the org's zone.
    await announce(bus, "Asia/Tokyo", version=1)
    await settled(bus)
    assert await fetch(caller, follower.schedule_id) == moved
    assert (await make(caller)).timezone == "Europe/Paris"


async def test_a_schedule_can_take_a_zone_of_its_own_and_follow_the_org_again(
    tentacle: ServiceApp, caller: Caller, bus: Bus
) -> None:
    await announce(bus, "Europe/Paris", version=5)
    await settled(bus)
    schedule = await make(caller)
    own = await caller.ask(
        SCHEDULE_UPDATE,
        UpdateScheduleV1(schedule_id=schedule.schedule_id, timezone="America/New_York"),
    )
    assert (own.timezone, own.follows_org_zone, own.next_run_at) == (
        "America/New_York",
        False,
        at(14),
    )
    await announce(bus, "Europe/London", version=6)
    await settled(bus)
    assert (await fetch(caller, schedule.schedule_id)).timezone == "America/New_York"

    again = await caller.ask(
        SCHEDULE_UPDATE, UpdateScheduleV1(schedule_id=schedule.schedule_id, follow_org_zone=True)
    )
    assert (again.timezone, again.follows_org_zone, again.next_run_at) == (
        "Europe/London",
        True,
        at(9),
    )
    with pytest.raises(RemoteError) as caught:
        await caller.ask(
            SCHEDULE_UPDATE,
            UpdateScheduleV1(
                schedule_id=schedule.schedule_id, timezone="Asia/Tokyo", follow_org_zone=True
            ),
        )
    assert caught.value.code == "tentacle.schedule_invalid"
    assert await fetch(caller, schedule.schedule_id) == again


async def test_flux_reads_today_and_tomorrow_in_the_orgs_time_zone(
    tentacle: ServiceApp, bus: Bus
) -> None:
    # A zone whose date differs from UTC's right now (by a day, either way, with 30 min spare).
    utc_now = datetime.now(UTC)
    zone = (
        "Pacific/Kiritimati" if utc_now.hour * 60 + utc_now.minute >= 630 else "Pacific/Pago_Pago"
    )
    local_tomorrow = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    assert local_tomorrow != utc_now.date() + timedelta(days=1)
    await announce(bus, zone, version=7)
    await settled(bus)
    async with ChatClient(bus, ORG, USER, "conv-" + new_id()) as chat:
        reply = await chat.send("What's on my calendar tomorrow?")
        events = await chat.until(reply, {ChatEventKind.DONE})
    [call] = [e.detail.call for e in events if e.detail.kind == "tool_call"]
    assert call.arguments["where"] == {
        "start": {
            "$gte": local_tomorrow.isoformat(),
            "$lt": (local_tomorrow + timedelta(days=1)).isoformat(),
        }
    }
    assert f"({local_tomorrow.isoformat()})" in text_of(events)
