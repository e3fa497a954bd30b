"""Organisation settings: read by members, changed by admins, announced with a version."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.msg import Msg
from pydantic import SecretStr, ValidationError

from contracts.inkpass import subjects as s
from contracts.inkpass.models import GetOrgSettingsV1, OrgSettingsV1, UpdateOrgSettingsV1
from shared.bus import Bus
from shared.bus.codec import decode
from shared.service import ServiceApp
from tests.inkpass.conftest import Db, Mailbox, join_as, new_account, remote_error, snapshot


async def test_members_read_admins_change_and_each_change_is_announced(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    viewer = await join_as(bus, mailbox, owner, "viewer", "viewer")
    first = await bus.request(s.GET_ORG_SETTINGS, GetOrgSettingsV1(access_token=viewer.access))
    assert (first.org_id, first.timezone, first.version) == (owner.org_id, "UTC", 1)

    announced: asyncio.Queue[OrgSettingsV1] = asyncio.Queue()

    async def on_event(msg: Msg) -> None:
        incoming = decode(s.ORG_SETTINGS_CHANGED, msg.data, strict=True, max_bytes=1 << 20)
        announced.put_nowait(incoming.data)

    sub = await bus.nc.subscribe(s.ORG_SETTINGS_CHANGED.filter(org_id=owner.org_id), cb=on_event)
    try:
        before = await snapshot(db)
        err = await remote_error(
            bus.request(
                s.UPDATE_ORG_SETTINGS,
                UpdateOrgSettingsV1(access_token=viewer.access, timezone="Europe/Paris"),
            )
        )
        assert err.code == "inkpass.forbidden"
        assert await snapshot(db) == before

        changed = await bus.request(
            s.UPDATE_ORG_SETTINGS,
            UpdateOrgSettingsV1(access_token=owner.access, timezone="Europe/Paris"),
        )
        assert (changed.timezone, changed.version, changed.name) == (
            "Europe/Paris",
            2,
            first.name,
        )
        event = await asyncio.wait_for(announced.get(), 10)
        assert event == changed
        seen = await bus.request(s.GET_ORG_SETTINGS, GetOrgSettingsV1(access_token=viewer.access))
        assert seen == changed

        # The same values again change nothing and announce nothing.
        same = await bus.request(
            s.UPDATE_ORG_SETTINGS,
            UpdateOrgSettingsV1(access_token=owner.access, timezone="Europe/Paris"),
        )
        assert same.version == 2
        await asyncio.sleep(0.3)
        assert announced.empty()
    finally:
        await sub.unsubscribe()


def test_an_unknown_time_zone_is_refused_before_it_reaches_inkpass() -> None:
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        UpdateOrgSettingsV1(access_token=SecretStr("x"), timezone="Mars/Olympus_Mons")
