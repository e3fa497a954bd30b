"""The organisation's settings through the inbox: read by members, changed by admins; a new time
zone reaches the schedules that follow it, end to end through inkpass and tentacle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from contracts.envelope import Actor, ActorKind
from contracts.tentacle.schedules import (
    SCHEDULE_CREATE,
    SCHEDULE_GET,
    CreateScheduleV1,
    ScheduleRefV1,
    ScheduleV1,
)
from tests.inbox.conftest import Platform


async def test_org_time_zone_is_set_in_the_inbox_and_schedules_follow_it(
    platform: Platform,
) -> None:
    ada = await platform.sign_up("ada")
    settings = await ada.ok("GET", "/api/v1/org/settings")
    assert (settings["org_id"], settings["timezone"]) == (ada.org_id, "UTC")

    actor = Actor(kind=ActorKind.USER, id=ada.user_id)
    schedule: ScheduleV1 = await platform.bus.request(
        SCHEDULE_CREATE,
        CreateScheduleV1(
            goal="Morning summary", cron="0 9 * * *", start_at=datetime(2030, 1, 1, tzinfo=UTC)
        ),
        org_id=ada.org_id,
        actor=actor,
    )
    assert (schedule.timezone, schedule.follows_org_zone) == ("UTC", True)

    changed = await ada.ok("PATCH", "/api/v1/org/settings", json={"timezone": "Europe/Paris"})
    assert (changed["timezone"], changed["version"]) == ("Europe/Paris", settings["version"] + 1)
    assert (await ada.ok("GET", "/api/v1/org/settings")) == changed

    ref = ScheduleRefV1(schedule_id=schedule.schedule_id)
    for _ in range(200):
        moved: ScheduleV1 = await platform.bus.request(
            SCHEDULE_GET, ref, org_id=ada.org_id, actor=actor
        )
        if moved.timezone == "Europe/Paris":
            break
        await asyncio.sleep(0.1)
    assert moved.timezone == "Europe/Paris"
    assert moved.next_run_at == datetime(2030, 1, 1, 8, tzinfo=UTC)  # 9:00 in Paris


async def test_bad_or_forbidden_changes_are_refused_and_change_nothing(
    platform: Platform,
) -> None:
    ada = await platform.sign_up("ada")
    before = await ada.ok("GET", "/api/v1/org/settings")
    for body, code in (
        ({"timezone": "Mars/Olympus_Mons"}, "inbox.invalid_request"),
        ({"timezone": "UTC", "colour": "red"}, "inbox.invalid_request"),
        ({"name": ""}, "inbox.invalid_request"),
    ):
        answer = await ada.http.patch("/api/v1/org/settings", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == code
    anonymous = await platform.client().get("/api/v1/org/settings")
    assert anonymous.status_code == 401
    assert await ada.ok("GET", "/api/v1/org/settings") == before
