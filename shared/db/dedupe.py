"""Consumer idempotency: a message id is processed at most once per consumer.

The claim is a row inserted in the handler's own transaction: if the handler fails, the claim
rolls back with its writes and the redelivery is processed; if it commits, a redelivery finds the
row and changes nothing. Two deliveries racing each other serialise on the primary key: the
second insert waits for the first transaction and then sees the conflict.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contracts.ids import validate_token
from shared.db.tables import processed_messages

PRUNE_BATCH: Final = 5_000


async def claim_message(session: AsyncSession, consumer: str, message_id: str) -> bool:
    """True if `consumer` has not processed `message_id` yet (and now owns it)."""
    statement = (
        insert(processed_messages)
        .values(
            consumer=validate_token(consumer, name="consumer"),
            message_id=validate_token(message_id, name="message_id"),
        )
        .on_conflict_do_nothing()
        .returning(processed_messages.c.message_id)
    )
    result = await session.execute(statement)
    return result.first() is not None


async def prune_processed(
    engine: AsyncEngine, older_than: timedelta, *, batch_size: int = PRUNE_BATCH
) -> int:
    """Forget claims older than `older_than`; how many were deleted.

    Keep `older_than` well beyond the longest redelivery window of any consumer (AckWait times
    MaxDeliver plus backoff), or a late redelivery would be processed again.
    """
    key = tuple_(processed_messages.c.consumer, processed_messages.c.message_id)
    total = 0
    while True:
        victims = (
            select(processed_messages.c.consumer, processed_messages.c.message_id)
            .where(processed_messages.c.processed_at < func.now() - older_than)
            .limit(batch_size)
        )
        async with engine.begin() as conn:
            result = await conn.execute(delete(processed_messages).where(key.in_(victims)))
        total += result.rowcount
        if result.rowcount < batch_size:
            return total
