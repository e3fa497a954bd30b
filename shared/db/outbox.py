"""The transactional outbox: messages written with the state they describe, sent after commit.

A unit of work stages messages; they are inserted in the same transaction as its other writes
and, once that transaction has committed, published at once in id order. Whatever is left
unpublished (the process died, NATS was down) is swept by `OutboxRelay`.

Ordering rule shared by both publishers: a message is sent only if every earlier unpublished
message of its unit of work is held (row-locked) by the same publisher. Rows are claimed with
`FOR UPDATE SKIP LOCKED`, so two publishers never work the same row at once, and neither can
overtake the other within one transaction's messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, Final, TypeAlias

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contracts.ids import validate_token
from shared.bus.codec import HEADER_MSG_ID, OutboundMessage
from shared.db.tables import outbox

log = logging.getLogger(__name__)

Publisher: TypeAlias = Callable[[OutboundMessage], Awaitable[object]]
"""Sends one message to JetStream and returns once the stream has it; raises when it was not
accepted. What it returns is ignored, so the bus's `publish_message` fits as it is."""

PRUNE_BATCH: Final = 5_000


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
    session: AsyncSession, batch: str, messages: Sequence[OutboundMessage]
) -> list[int]:
    """Insert `messages` in order; their ids, in the same order."""
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
    result = await session.execute(
        insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True), rows
    )
    return list(result.scalars())


def message_of(row: Any) -> OutboundMessage:
    return OutboundMessage(
        subject=row.subject,
        body=bytes(row.body),
        message_id=row.message_id,
        headers=dict(row.headers),
    )


async def publish_after_commit(
    session: AsyncSession,
    written: Sequence[tuple[int, OutboundMessage]],
    publisher: Publisher,
) -> int:
    """Publish a committed unit of work's messages; how many this call sent.

    Stops at the first row another publisher holds or that fails to send: the relay takes over
    from there, in order. Never raises for a failed send, since the caller's transaction did
    commit and its messages are safe in the table.
    """
    ids = [row_id for row_id, _ in written]
    sent: list[int] = []
    try:
        async with session.begin():
            locked = dict(
                (
                    await session.execute(
                        select(outbox.c.id, outbox.c.published_at)
                        .where(outbox.c.id.in_(ids))
                        .order_by(outbox.c.id)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
            )
            for row_id, message in written:
                if row_id not in locked:
                    break  # the relay holds it and will send the rest after it
                if locked[row_id] is not None:
                    continue  # the relay already sent it
                try:
                    await publisher(message)
                except Exception as exc:
                    log.warning(
                        "outbox row %s (%s) not published, left for the relay: %s",
                        row_id,
                        message.subject,
                        exc,
                    )
                    break
                sent.append(row_id)
            if sent:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(sent))
                    .values(published_at=func.now(), last_error=None)
                )
    except Exception:
        # Sent but not marked: the relay sends them again and JetStream drops the copies.
        log.warning("could not record published outbox rows; the relay will retry", exc_info=True)
        return 0
    return len(sent)


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
