"""The organisation's feed: numbered entries written with the change they describe.

`append` takes the next number under the org's head row (so numbers have no gaps and follow
commit order per org) and stores the entry in the caller's transaction; `announce`, called after
the commit, tells every replica. The announcement is a hint, not the record: a stream that
misses one (the process died between commit and announcement) notices the gap at the next
entry, or at its next heartbeat when the hub re-reads the org's head, and reads the database.
So it is published directly rather than through the outbox, which would cost every entry a
second transaction on the path to the person's screen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inbox.models import FeedEntryV1, FeedKind
from contracts.inbox.subjects import FEED_APPENDED
from inbox.adapters.tables import feed_entries, feed_heads
from shared.bus import Bus
from shared.db import UnitOfWork
from shared.errors import FluxosError
from shared.logging import get_logger

log = get_logger(__name__)


async def append(
    uow: UnitOfWork,
    *,
    org_id: str,
    kind: FeedKind,
    data: dict[str, JsonValue],
    conversation_id: str | None = None,
    task_id: str | None = None,
    source_at: datetime | None = None,
) -> FeedEntryV1:
    session = uow.session
    bump = (
        insert(feed_heads)
        .values(org_id=org_id, head=1)
        .on_conflict_do_update(
            index_elements=[feed_heads.c.org_id], set_={"head": feed_heads.c.head + 1}
        )
        .returning(feed_heads.c.head)
    )
    seq = (await session.execute(bump)).scalar_one()
    entry = FeedEntryV1(
        org_id=org_id,
        seq=seq,
        kind=kind,
        conversation_id=conversation_id,
        task_id=task_id,
        data=data,
        source_at=source_at,
        at=datetime.now(UTC),
    )
    await session.execute(
        insert(feed_entries).values(
            org_id=org_id,
            seq=seq,
            kind=kind.value,
            conversation_id=conversation_id,
            task_id=task_id,
            data=data,
            source_at=source_at,
            at=entry.at,
        )
    )
    return entry


async def announce(bus: Bus, entry: FeedEntryV1) -> None:
    try:
        await bus.publish(FEED_APPENDED, entry, org_id=entry.org_id)
    except FluxosError as exc:
        log.warning("inbox.feed_not_announced", org_id=entry.org_id, seq=entry.seq, error=str(exc))


async def head(session: AsyncSession, org_id: str) -> int:
    found = (
        await session.execute(select(feed_heads.c.head).where(feed_heads.c.org_id == org_id))
    ).scalar_one_or_none()
    return int(found or 0)


async def read_after(
    session: AsyncSession, org_id: str, after: int, limit: int
) -> list[FeedEntryV1]:
    rows = (
        await session.execute(
            select(feed_entries)
            .where(feed_entries.c.org_id == org_id, feed_entries.c.seq > after)
            .order_by(feed_entries.c.seq)
            .limit(limit)
        )
    ).all()
    return [_entry(row) for row in rows]


def _entry(row: Any) -> FeedEntryV1:
    return FeedEntryV1(
        org_id=row.org_id,
        seq=row.seq,
        kind=FeedKind(row.kind),
        conversation_id=row.conversation_id,
        task_id=row.task_id,
        data=row.data,
        source_at=row.source_at,
        at=row.at,
    )
