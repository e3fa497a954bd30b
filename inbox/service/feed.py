"""The organisation's feed: numbered entries written with the change they describe.

`append_many` takes the next numbers under the org's head row (so numbers have no gaps and follow
commit order per org) and stores the entries in the caller's transaction; `announce_many`, called
after the commit, tells this process's listeners at once, then every replica over the bus (this
one hears it again and drops the copy by its number).

The head row, rather than a sequence, is what makes numbers follow commit order: a sequence
hands out numbers that become visible out of order, and a stream that resumed after N could then
miss an N-1 committed late. Its lock is held from the bump to the commit, so a writer bumps it
once per transaction, as late as it can, for all the entries of that transaction.

The announcement is a hint, not the record: a stream that misses one (the process died between
commit and announcement) notices the gap at the next entry, or at its next heartbeat when the
hub re-reads the org's head, and reads the database. So it is published directly rather than
through the outbox, which would cost every entry a second transaction on the path to the
person's screen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from nats.errors import Error as NatsError
from pydantic import JsonValue
from sqlalchemy import BigInteger, DateTime, Text, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inbox.models import FeedEntryV1, FeedKind
from contracts.inbox.subjects import FEED_APPENDED
from inbox.adapters.tables import feed_entries, feed_heads
from inbox.service.context import Inbox
from shared.db import UnitOfWork
from shared.logging import get_logger

log = get_logger(__name__)

_APPEND: Final = text(
    """
    WITH bumped AS (
        INSERT INTO feed_heads AS h (org_id, head) VALUES (:org_id, :count)
        ON CONFLICT (org_id) DO UPDATE SET head = h.head + :count
        RETURNING head
    )
    INSERT INTO feed_entries (org_id, seq, kind, conversation_id, task_id, data, source_at, at)
    SELECT :org_id, bumped.head - :count + d.n, d.kind, d.conversation_id, d.task_id,
           CAST(d.data AS jsonb), d.source_at, :at
      FROM bumped,
           unnest(
               CAST(:kinds AS text[]), CAST(:conversation_ids AS text[]),
               CAST(:task_ids AS text[]), CAST(:data AS text[]),
               CAST(:source_ats AS timestamptz[])
           ) WITH ORDINALITY AS d(kind, conversation_id, task_id, data, source_at, n)
    RETURNING seq
    """
).bindparams(
    bindparam("count", type_=BigInteger),
    bindparam("at", type_=DateTime(timezone=True)),
    bindparam("kinds", type_=ARRAY(Text)),
    bindparam("conversation_ids", type_=ARRAY(Text)),
    bindparam("task_ids", type_=ARRAY(Text)),
    bindparam("data", type_=ARRAY(Text)),
    bindparam("source_ats", type_=ARRAY(DateTime(timezone=True))),
)
"""The head's bump and the entries' rows in one statement."""


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry before it has its number."""

    kind: FeedKind
    data: dict[str, JsonValue]
    conversation_id: str | None = None
    task_id: str | None = None
    source_at: datetime | None = None


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
    draft = Draft(kind, data, conversation_id, task_id, source_at)
    [entry] = await append_many(uow, org_id=org_id, drafts=[draft])
    return entry


async def append_many(
    uow: UnitOfWork, *, org_id: str, drafts: Sequence[Draft]
) -> list[FeedEntryV1]:
    """Number and store `drafts` in order, with one bump of the org's head."""
    if not drafts:
        return []
    count = len(drafts)
    at = datetime.now(UTC)
    # One round trip for the bump and the rows: the statement waits for the head's lock and
    # numbers the rows from what the bump returns.
    seqs = (
        await uow.session.execute(
            _APPEND,
            {
                "org_id": org_id,
                "count": count,
                "at": at,
                "kinds": [draft.kind.value for draft in drafts],
                "conversation_ids": [draft.conversation_id for draft in drafts],
                "task_ids": [draft.task_id for draft in drafts],
                "data": [json.dumps(draft.data) for draft in drafts],
                "source_ats": [draft.source_at for draft in drafts],
            },
        )
    ).scalars()
    last = max(seqs)
    entries = [
        FeedEntryV1(
            org_id=org_id,
            seq=last - count + 1 + i,
            kind=draft.kind,
            conversation_id=draft.conversation_id,
            task_id=draft.task_id,
            data=draft.data,
            source_at=draft.source_at,
            at=at,
        )
        for i, draft in enumerate(drafts)
    ]
    return entries


async def announce(inbox: Inbox, entry: FeedEntryV1) -> None:
    await announce_many(inbox, [entry])


async def announce_many(inbox: Inbox, entries: Sequence[FeedEntryV1]) -> None:
    """Tell this process's listeners, then hand the announcements to the connection, in order,
    without waiting for the stream's acknowledgements: they are hints, and waiting (a round trip
    behind whatever the event loop is doing) would hold up the next transaction of the caller."""
    for entry in entries:
        for heard in inbox.heard_here:
            heard(entry)
    bus = inbox.bus
    for entry in entries:
        msg = bus.message(FEED_APPENDED, entry, org_id=entry.org_id)
        try:
            await bus.nc.publish(msg.subject, msg.body, headers=msg.headers)
        except NatsError as exc:  # not connected: the heads' re-read at the next beat covers it
            log.warning(
                "inbox.feed_not_announced", org_id=entry.org_id, seq=entry.seq, error=str(exc)
            )


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
