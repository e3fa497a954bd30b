"""inbox's stream and its durable consumer of task lifecycle events.

The feed stream is short-lived on purpose: the database holds every entry (a reconnecting SSE
stream reads what it missed from there); the stream only lets replicas and other followers see
entries as they are appended.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contracts.inbox.subjects import FEED_APPENDED, SERVICE
from contracts.streams import Consumer, Storage, Stream
from contracts.tentacle.chat import CHAT_EVENTS, CHAT_STREAMED
from contracts.tentacle.streams import EVENTS as TENTACLE_EVENTS
from contracts.tentacle.subjects import TASK_PROGRESSED, TASK_PROGRESSED_WITHOUT_KIND

FEED = Stream(
    name="INBOX_FEED",
    subjects=(FEED_APPENDED.wildcard,),
    description="Live feed entries of every organisation (the database keeps them for good).",
    storage=Storage.MEMORY,
    max_age=timedelta(hours=1),
    max_bytes=256 * 1024 * 1024,
)

LIFECYCLE_CONSUMER = Consumer(
    durable="inbox-task-lifecycle",
    service=SERVICE,
    stream=TENTACLE_EVENTS,
    subject=TASK_PROGRESSED,
    # Every kind is projected; events from before the subject carried the kind still count.
    legacy_subjects=(TASK_PROGRESSED_WITHOUT_KIND,),
    description="Project task lifecycle events into conversations and messages.",
    ack_wait=timedelta(seconds=15),
    max_deliver=8,
    backoff=(
        timedelta(milliseconds=200),
        timedelta(seconds=1),
        timedelta(seconds=5),
        timedelta(seconds=15),
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ),
    jitter=0.2,
    # Deliveries in flight together are projected in one transaction, a task's events in their
    # order (see inbox.service.projector): room for many lets a burst become a few batches.
    # The projection itself does not depend on order (see inbox.service.project).
    max_ack_pending=1000,
    concurrency=64,
)

CHAT_CONSUMER = Consumer(
    durable="inbox-chat",
    service=SERVICE,
    stream=CHAT_EVENTS,
    subject=CHAT_STREAMED,
    description="Put the lasting events of Flux's replies (tool calls and results, approvals, "
    "the final text) into their conversations; deltas are acknowledged and skipped.",
    ack_wait=timedelta(seconds=15),
    max_deliver=8,
    backoff=LIFECYCLE_CONSUMER.backoff,
    jitter=0.2,
    max_ack_pending=2000,
    concurrency=8,
)

ALL_STREAMS = (FEED,)
ALL_CONSUMERS: tuple[Consumer[Any], ...] = (LIFECYCLE_CONSUMER, CHAT_CONSUMER)
