"""Dead letters: record them, catch the ones a crash loop leaves behind, list and replay them.

A replay republishes the original body and headers to the original subject. Every consumer of
that subject sees it again; they are idempotent by `meta.message_id`, so only the ones that had
not processed it act.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from contracts.envelope import Meta
from contracts.platform.deadletter import (
    ADVISORY_STREAM,
    DEAD_LETTER_RECORDED,
    DEAD_LETTER_REPLAYED,
    DEAD_LETTER_STREAM,
    DeadLetterReplayedV1,
    DeadLetterV1,
    MaxDeliveriesAdvisory,
    advisory_filter,
    dead_letter_message_id,
)
from contracts.platform.errors import BusErrorCode
from contracts.streams import Consumer, Retention
from shared.bus.client import Bus
from shared.bus.codec import HEADER_MSG_ID, decode
from shared.errors import CodedPermanentError
from shared.logging import get_logger
from shared.tasks import cancel_and_wait

log = get_logger(__name__)

_MAX_REASON = 2000
# Headers the server sets or interprets on publish; a replay must not carry them over.
_SERVER_HEADERS = ("Nats-Expected-", "Nats-Rollup", "Nats-TTL", "Status", "Description")


class DeadLetters:
    def __init__(self, bus: Bus, service: str) -> None:
        self.bus = bus
        self.service = service

    async def record(
        self,
        *,
        consumer: str,
        stream: str,
        stream_seq: int,
        subject: str,
        code: str,
        reason: str,
        deliveries: int,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        letter = DeadLetterV1(
            service=self.service,
            consumer=consumer,
            stream=stream,
            stream_seq=stream_seq,
            subject=subject,
            code=code,
            reason=reason[:_MAX_REASON],
            deliveries=deliveries,
            headers=headers,
            body=body,
            failed_at=datetime.now(UTC),
        )
        # The id is the original's place in its stream: both the consumer and the advisory
        # path may record the same failure, and JetStream keeps one.
        msg = self.bus.message(
            DEAD_LETTER_RECORDED, letter, message_id=dead_letter_message_id(stream, stream_seq)
        )
        await self.bus.publish_message(msg)
        log.warning(
            "deadletter.recorded", consumer=consumer, stream=stream, seq=stream_seq, code=code
        )


class AdvisoryWatcher:
    """Dead-letters messages whose every delivery ended in silence (crash, hang, kill -9)."""

    def __init__(
        self, bus: Bus, service: str, consumers: Sequence[Consumer[Any]], dead_letters: DeadLetters
    ) -> None:
        self.bus = bus
        self.durable = f"{service}-advisories"
        self.consumers = {(c.stream.name, c.durable): c for c in consumers}
        self.dead_letters = dead_letters
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self.consumers:
            return
        filters = [advisory_filter(stream, durable) for stream, durable in self.consumers]
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30,
            max_deliver=20,
            filter_subjects=filters,
            deliver_policy=DeliverPolicy.ALL,
        )
        await self.bus.js.add_consumer(ADVISORY_STREAM.name, config)
        sub = await self.bus.js.pull_subscribe_bind(self.durable, stream=ADVISORY_STREAM.name)
        self._task = asyncio.create_task(self._run(sub), name=self.durable)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _run(self, sub: Any) -> None:
        while True:
            try:
                msgs = await sub.fetch(16, timeout=5)
            except (TimeoutError, NatsTimeout):
                continue
            except Exception as exc:
                log.warning("deadletter.advisory_fetch_failed", error=str(exc))
                await asyncio.sleep(1)
                continue
            for msg in msgs:
                try:
                    await self._handle(msg.data)
                except Exception as exc:
                    log.error("deadletter.advisory_failed", error=str(exc))
                    await msg.nak(delay=5)
                else:
                    await msg.ack()

    async def _handle(self, body: bytes) -> None:
        advisory = MaxDeliveriesAdvisory.model_validate_json(body)
        consumer = self.consumers.get((advisory.stream, advisory.consumer))
        try:
            original = await self.bus.js.get_msg(advisory.stream, advisory.stream_seq)
        except NotFoundError:
            return  # already gone (acked late, or removed by limits): nothing left to keep
        await self.dead_letters.record(
            consumer=advisory.consumer,
            stream=advisory.stream,
            stream_seq=advisory.stream_seq,
            subject=original.subject or "",
            code=BusErrorCode.MAX_DELIVERIES.value,
            reason=(
                f"no outcome after {advisory.deliveries} deliveries: "
                "the handler crashed, hung or was killed each time"
            ),
            deliveries=advisory.deliveries,
            headers=dict(original.headers or {}),
            body=original.data or b"",
        )
        if consumer is not None and consumer.stream.retention is Retention.WORK_QUEUE:
            # A work item nobody will ack would sit in its queue forever; the copy is safe now.
            with contextlib.suppress(NotFoundError):
                await self.bus.js.delete_msg(advisory.stream, advisory.stream_seq)


# ---------------------------------------------------------------------------- operator tools
@dataclass(frozen=True)
class DeadLetterEntry:
    seq: int
    meta: Meta
    letter: DeadLetterV1


class DeadLetterNotFound(CodedPermanentError):
    def __init__(self, seq: int) -> None:
        super().__init__("deadletter.not_found", f"no dead letter with sequence {seq}")


async def read_dead_letter(bus: Bus, seq: int) -> DeadLetterEntry:
    try:
        raw = await bus.js.get_msg(DEAD_LETTER_STREAM.name, seq)
    except NotFoundError:
        raise DeadLetterNotFound(seq) from None
    if raw.subject is None or DEAD_LETTER_RECORDED.parse(raw.subject) is None:
        raise DeadLetterNotFound(seq)
    incoming = decode(DEAD_LETTER_RECORDED, raw.data or b"", strict=False, max_bytes=1 << 30)
    return DeadLetterEntry(seq, incoming.meta, incoming.data)


async def list_dead_letters(
    bus: Bus, *, service: str | None = None, limit: int = 100
) -> list[DeadLetterEntry]:
    """The newest `limit` dead letters, oldest first, optionally of one service."""
    try:
        info = await bus.js.stream_info(DEAD_LETTER_STREAM.name)
    except NotFoundError:
        return []
    first, last = info.state.first_seq, info.state.last_seq
    entries: list[DeadLetterEntry] = []
    seq = last
    while seq >= first and seq > 0 and len(entries) < limit:
        with contextlib.suppress(DeadLetterNotFound):
            entry = await read_dead_letter(bus, seq)
            if service is None or entry.letter.service == service:
                entries.append(entry)
        seq -= 1
    entries.reverse()
    return entries


async def replay_dead_letter(bus: Bus, seq: int, *, replayed_by: str) -> DeadLetterReplayedV1:
    """Publish a dead letter's original message again, to its original subject."""
    entry = await read_dead_letter(bus, seq)
    letter = entry.letter
    headers = {k: v for k, v in letter.headers.items() if not k.startswith(_SERVER_HEADERS)}
    original_id = headers.get(HEADER_MSG_ID, "")
    # A fresh dedupe id, or JetStream would drop the replay as a duplicate of the original;
    # stable per dead letter, so replaying the same entry twice in a row publishes once.
    headers[HEADER_MSG_ID] = f"replay-{seq}-{original_id}"[:128]
    await bus.js.publish(letter.subject, letter.body, headers=headers)
    replayed = DeadLetterReplayedV1(
        dead_letter_seq=seq,
        subject=letter.subject,
        message_id=original_id,
        replayed_by=replayed_by,
    )
    await bus.publish(DEAD_LETTER_REPLAYED, replayed)
    return replayed
