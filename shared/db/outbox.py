"""The transactional outbox: messages written with the state they describe, sent after commit.

A unit of work stages messages; they are inserted in the same transaction as its other writes,
leased to the writer, and once that transaction has committed, published at once in id order
with no further database work; their rows are marked published later, many at a time
(`PublishedMarks`). Whatever is left unpublished (the process died, NATS was down) is swept by
`OutboxRelay` once its lease ends, or at once when the writer gives its lease back.

Ordering rule shared by both publishers: a message is sent only if every earlier unpublished
message of its unit of work is held by the same publisher, held meaning leased (the writer) or
row-locked (a relay, which claims only due rows with `FOR UPDATE SKIP LOCKED`). So no two
publishers work the same row at once, and neither overtakes the other within one transaction's
messages. A row sent but not yet marked (a crash in between) is sent again by the relay after
the lease, well inside every stream's duplicate window, and JetStream drops the copy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, TypeAlias

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contracts.ids import validate_token
from shared.bus.codec import HEADER_MSG_ID, OutboundMessage
from shared.db.tables import outbox

log = logging.getLogger(__name__)

Publisher: TypeAlias = Callable[[OutboundMessage], Awaitable[object]]
"""Sends one message to JetStream and returns once the stream has it; raises when it was not
accepted. What it returns is ignored, so the bus's `publish_message` fits as it is."""

PRUNE_BATCH: Final = 5_000

PUBLISH_LEASE: Final = timedelta(seconds=30)
"""How long a committed unit of work's rows are its writer's to publish. Short next to every
stream's duplicate window (a resend after it is dropped by JetStream), long next to a send."""

PUBLISH_ALLOWANCE: Final = timedelta(seconds=10)
"""The longest one send may take (the bus's publish timeout is 5 s), and then some: no send
starts later than this before the lease ends."""


def checked_message(message: OutboundMessage) -> OutboundMessage:
    """`message` with `Nats-Msg-Id` guaranteed, so JetStream can drop a republished copy."""
    validate_token(message.message_id, name="message_id")
    if not message.subject:
        raise ValueError("an outbound message needs a subject")
    sent_id = message.headers.get(HEADER_MSG_ID)
    if sent_id == message.message_id:
        return message
    if sent_id is not None:
        raise ValueError(f"{HEADER_MSG_ID} {sent_id!r} differs from message_id")
    return OutboundMessage(
        subject=message.subject,
        body=message.body,
        message_id=message.message_id,
        headers={**message.headers, HEADER_MSG_ID: message.message_id},
    )


async def write_outbox(
    session: AsyncSession,
    batch: str,
    messages: Sequence[OutboundMessage],
    *,
    lease: timedelta | None = None,
) -> list[int]:
    """Insert `messages` in order; their ids, in the same order.

    `lease`: the rows are the writer's to publish after commit for that long; the relay, which
    only takes rows that are due, leaves them alone until then. None: due at once (no writer
    will publish them, e.g. no bus yet).
    """
    rows = [
        {
            "batch": batch,
            "subject": m.subject,
            "headers": dict(m.headers),
            "body": m.body,
            "message_id": m.message_id,
        }
        for m in messages
    ]
    statement = insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True)
    if lease is not None:
        statement = statement.values(next_attempt_at=func.clock_timestamp() + lease)
    result = await session.execute(statement, rows)
    return list(result.scalars())


def message_of(row: Any) -> OutboundMessage:
    return OutboundMessage(
        subject=row.subject,
        body=bytes(row.body),
        message_id=row.message_id,
        headers=dict(row.headers),
    )


@dataclass(frozen=True, slots=True)
class Published:
    sent: list[int]
    """Rows sent, in order."""
    unsent: list[int]
    """Rows not sent (a send failed or the lease ran short): the relay's from now on."""


async def publish_committed(
    written: Sequence[tuple[int, OutboundMessage]], publisher: Publisher, *, deadline: float
) -> Published:
    """Publish a committed unit of work's leased rows in order, without touching the database.

    The lease keeps the relay away, so no row lock is needed and no connection is held while
    JetStream acknowledges. Stops at the first failed send, and before any send that could
    still be in flight when the lease ends (`deadline`, on the monotonic clock, is the lease's
    end less the longest a send can take): past it the relay may publish the same rows, and
    this publisher must not overtake it. Never raises for a failed send: the transaction did
    commit and its messages are safe in the table.
    """
    sent: list[int] = []
    for index, (row_id, message) in enumerate(written):
        if time.monotonic() >= deadline:
            log.warning("outbox lease ran short; the relay publishes from row %s on", row_id)
            return Published(sent, [row for row, _ in written[index:]])
        try:
            await publisher(message)
        except Exception as exc:
            log.warning(
                "outbox row %s (%s) not published, left for the relay: %s",
                row_id,
                message.subject,
                exc,
            )
            return Published(sent, [row for row, _ in written[index:]])
        sent.append(row_id)
    return Published(sent, [])


async def prune_published(
    engine: AsyncEngine, older_than: timedelta, *, batch_size: int = PRUNE_BATCH
) -> int:
    """Delete rows published more than `older_than` ago, in short transactions; how many."""
    total = 0
    while True:
        victims = (
            select(outbox.c.id)
            .where(outbox.c.published_at < func.now() - older_than)
            .limit(batch_size)
            .scalar_subquery()
        )
        async with engine.begin() as conn:
            result = await conn.execute(delete(outbox).where(outbox.c.id.in_(victims)))
        total += result.rowcount
        if result.rowcount < batch_size:
            return total
