"""Contracts of inbox.

The user's door: conversations, messages and read state, projected from lifecycle events, and
the live feed each organisation's SSE streams follow.
"""

from __future__ import annotations

from contracts.inbox.models import FeedEntryV1, FeedKind
from contracts.inbox.streams import ALL_CONSUMERS, ALL_STREAMS, FEED, LIFECYCLE_CONSUMER
from contracts.inbox.subjects import ALL, FEED_APPENDED, SERVICE
from contracts.platform.health import health_subject

HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH, *ALL)
STREAMS = ALL_STREAMS
CONSUMERS = ALL_CONSUMERS

__all__ = [
    "CONSUMERS",
    "FEED",
    "FEED_APPENDED",
    "HEALTH",
    "LIFECYCLE_CONSUMER",
    "SERVICE",
    "STREAMS",
    "SUBJECTS",
    "FeedEntryV1",
    "FeedKind",
]
