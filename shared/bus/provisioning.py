"""Turning stream and consumer declarations into server state, idempotently.

Any number of services and replicas may provision at the same moment: creating what exists with
the same configuration is a no-op, and a changed declaration updates the server's copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.api import DeliverPolicy as NatsDeliverPolicy
from nats.js.errors import APIError, NotFoundError

from contracts.streams import Consumer, DeliverPolicy, Retention, Storage, Stream
from shared.logging import get_logger

log = get_logger(__name__)

_RETENTION = {
    Retention.LIMITS: RetentionPolicy.LIMITS,
    Retention.WORK_QUEUE: RetentionPolicy.WORK_QUEUE,
    Retention.INTEREST: RetentionPolicy.INTEREST,
}
_STORAGE = {Storage.FILE: StorageType.FILE, Storage.MEMORY: StorageType.MEMORY}
_DELIVER = {DeliverPolicy.ALL: NatsDeliverPolicy.ALL, DeliverPolicy.NEW: NatsDeliverPolicy.NEW}


def stream_config(spec: Stream, *, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        retention=_RETENTION[spec.retention],
        storage=_STORAGE[spec.storage],
        # The server reports "no limit" as 0; declaring it the same way keeps comparisons exact.
        max_age=spec.max_age.total_seconds() if spec.max_age else 0.0,
        max_msgs=spec.max_msgs if spec.max_msgs is not None else -1,
        max_bytes=spec.max_bytes if spec.max_bytes is not None else -1,
        max_msg_size=spec.max_msg_size if spec.max_msg_size is not None else -1,
        duplicate_window=spec.duplicate_window.total_seconds(),
        discard=DiscardPolicy.OLD,
        num_replicas=replicas,
        allow_direct=True,
    )


def consumer_config(spec: Consumer[Any]) -> ConsumerConfig:
    filters = spec.filter_subjects
    return ConsumerConfig(
        durable_name=spec.durable,
        description=spec.description,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait.total_seconds(),
        max_deliver=spec.max_deliver,
        # One filter is declared the way the server reports it back; several need the list.
        filter_subject=filters[0] if len(filters) == 1 else None,
        filter_subjects=list(filters) if len(filters) > 1 else None,
        max_ack_pending=spec.max_ack_pending,
        deliver_policy=_DELIVER[spec.deliver_policy],
        max_waiting=512,
    )


_COMPARED = (
    "subjects",
    "retention",
    "storage",
    "max_age",
    "max_msgs",
    "max_bytes",
    "max_msg_size",
    "duplicate_window",
    "num_replicas",
    "description",
)


def _differs(want: StreamConfig, have: StreamConfig) -> bool:
    return any(getattr(want, f) != getattr(have, f) for f in _COMPARED)


async def ensure_stream(js: JetStreamContext, spec: Stream, *, replicas: int) -> None:
    want = stream_config(spec, replicas=replicas)
    try:
        have = (await js.stream_info(spec.name)).config
    except NotFoundError:
        try:
            await js.add_stream(want)
            log.info("bus.stream_created", stream=spec.name)
            return
        except APIError as exc:
            # Someone created it between our look and our create; compare with theirs. The
            # server does not always say so: a memory stream's second create can fail on its
            # storage reservation (500, "insufficient memory resources") first.
            try:
                have = (await js.stream_info(spec.name)).config
            except NotFoundError:
                raise exc from None
    if _differs(want, have):
        await js.update_stream(want)
        log.info("bus.stream_updated", stream=spec.name)


async def ensure_streams(js: JetStreamContext, specs: Iterable[Stream], *, replicas: int) -> None:
    for spec in specs:
        await ensure_stream(js, spec, replicas=replicas)


async def ensure_consumer(js: JetStreamContext, spec: Consumer[Any]) -> None:
    """Create the durable, or bring an existing one to the declaration. The server edits an
    existing durable in place (its filter subjects included) and keeps its position and its
    unacknowledged messages, so a changed filter takes effect at the next start without
    replaying or skipping anything the old filter had matched."""
    await js.add_consumer(spec.stream.name, consumer_config(spec))
