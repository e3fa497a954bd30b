"""The frames a replica shares between streams: made once per person, never across people."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.inbox.models import FeedEntryV1, FeedKind
from inbox.domain.errors import InvalidLastEventId
from inbox.service.context import Inbox
from inbox.service.live import Hub
from tests.inbox.conftest import Platform


async def test_each_person_gets_the_entry_with_their_own_id(platform: Platform) -> None:
    assert platform.inbox.http_app is not None
    inbox: Inbox = platform.inbox.http_app.state.inbox
    hub: Hub = platform.inbox.http_app.state.hub
    entry = FeedEntryV1(
        org_id="org-frames",
        seq=7,
        kind=FeedKind.PROGRESS,
        data={"n": 1},
        at=datetime.now(UTC),
    )
    ada, bob = hub.frame(entry, "user-ada"), hub.frame(entry, "user-bob")
    assert hub.frame(entry, "user-ada") is ada  # made once, shared by all of ada's streams
    assert ada != bob
    assert ada.endswith(hub.body(entry))
    assert bob.endswith(hub.body(entry))

    def event_id(frame: bytes) -> str:
        first = frame.split(b"\n", 1)[0]
        assert first.startswith(b"id: ")
        return first[4:].decode()

    assert inbox.event_ids.parse("org-frames", "user-ada", event_id(ada)) == 7
    assert inbox.event_ids.parse("org-frames", "user-bob", event_id(bob)) == 7
    with pytest.raises(InvalidLastEventId):
        inbox.event_ids.parse("org-frames", "user-bob", event_id(ada))
