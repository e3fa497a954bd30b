"""Subjects of inbox."""

from __future__ import annotations

from typing import Any, Final

from contracts.inbox.models import FeedEntryV1
from contracts.subject import Subject, event

SERVICE: Final = "inbox"

FEED_APPENDED = event(
    SERVICE,
    "feed",
    "appended",
    FeedEntryV1,
    tokens=("org_id",),
    summary="An entry of an organisation's live feed, numbered per organisation.",
)

ALL: tuple[Subject[Any, Any], ...] = (FEED_APPENDED,)
