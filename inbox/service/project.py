"""The projection: task lifecycle events in, conversations and messages out.

Idempotent and order-tolerant. An event is applied once, keyed by its task and sequence number
(`projected_events`), so a redelivery or a replay of the whole stream changes nothing twice and
a fresh database rebuilt from the stream holds the same conversations and messages (their ids
and times come from the events). Checkpoints keep their state in their own row, so a
resolution that overtakes its request still leaves the checkpoint resolved, and a conversation's
priority is recounted from those rows rather than incremented.

Events come in batches (see `inbox.service.projector`), applied with a statement per table for
the whole batch rather than per event: every column is a greatest, least or first-non-empty of
what the events say, so applying them together leaves the same rows as one at a time, in any
order. Each entry of the batch shows its conversation as the batch left it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue
from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inbox.models import FeedKind
from contracts.tentacle.checkpoints import CheckpointStatus
from contracts.tentacle.events import (
    CheckpointResolvedDetailV1,
    TaskCreatedDetailV1,
    TaskEventV1,
)
from inbox.adapters.tables import (
    checkpoints,
    conversation_tasks,
    conversations,
    messages,
    projected_events,
)
from inbox.domain.messages import (
    MessageDraft,
    conversation_of,
    message_for,
    message_id_for,
    order_key,
)
from inbox.service import feed
from inbox.service.context import Inbox
from inbox.service.records import conversation_json, message_json


@dataclass(slots=True)
class _Applied:
    event: TaskEventV1
    conversation_id: str
    draft: MessageDraft | None
    message: Any = None
    checkpoint_status: str | None = None
    resolved: dict[str, JsonValue] | None = None


async def project(inbox: Inbox, event: TaskEventV1) -> None:
    await project_batch(inbox, [event])


async def project_batch(inbox: Inbox, events: Sequence[TaskEventV1]) -> None:
    """Apply `events` (one organisation's) in one transaction, then announce their entries.

    Rows are locked in one order: the batch's conversations by id, each before anything of its
    tasks (a task stays in one conversation), and the feed's head last. So batches projected at
    once by several replicas wait for each other rather than deadlock. A task's events are
    numbered in the feed in their sequence.
    """
    if not events:
        return
    org = events[0].org_id
    if any(event.org_id != org for event in events):
        raise ValueError("a batch holds the events of one organisation")
    unique: dict[tuple[str, int], TaskEventV1] = {}
    for event in events:
        unique.setdefault((event.task_id, event.seq), event)  # a copy in the same batch
    ordered = sorted(unique.values(), key=lambda e: (conversation_of(e), e.task_id, e.seq))
    async with inbox.db.transaction(org_id=org) as uow:
        drafts = await _apply(uow.session, org, ordered)
        entries = await feed.append_many(uow, org_id=org, drafts=drafts)
    await feed.announce_many(inbox, entries)


async def _apply(session: AsyncSession, org: str, ordered: list[TaskEventV1]) -> list[feed.Draft]:
    # Each statement that changes conversations returns them: the last one seen is the state
    # the batch leaves, which every entry shows.
    shown = await _ensure_conversations(session, org, ordered)
    claimed = await _claim(session, org, ordered)
    fresh = [
        _Applied(e, conversation_of(e), message_for(e))
        for e in ordered
        if (e.task_id, e.seq) in claimed
    ]
    if not fresh:
        return []
    await _track_tasks(session, org, fresh)
    await _insert_messages(session, org, fresh)
    touched_checkpoints: set[str] = set()
    for applied in fresh:  # rare, and each depends on the one before: one at a time
        event = applied.event
        if applied.draft is not None and applied.draft.checkpoint_id is not None:
            applied.checkpoint_status = await _checkpoint_requested(
                session, org, applied.draft.checkpoint_id, event.task_id, applied.conversation_id
            )
            touched_checkpoints.add(applied.conversation_id)
        if isinstance(event.detail, CheckpointResolvedDetailV1):
            applied.resolved = await _checkpoint_resolved(
                session, org, event.detail, event.task_id, applied.conversation_id
            )
            touched_checkpoints.add(applied.conversation_id)
    shown |= await _move_latest(session, org, [a for a in fresh if a.message is not None])
    for conversation_id in sorted(touched_checkpoints):
        # Only checkpoint rows move the count, so other events need not recount it.
        shown[conversation_id] = await _recount_checkpoints(session, org, conversation_id)
    drafts: list[feed.Draft] = []
    for applied in fresh:
        event = applied.event
        data: dict[str, JsonValue] = {
            "event": _event_json(event),
            "conversation": conversation_json(shown[applied.conversation_id]),
        }
        if applied.message is not None:
            data["message"] = message_json(applied.message, applied.checkpoint_status)
        if applied.resolved is not None:
            data["checkpoint"] = applied.resolved
        drafts.append(
            feed.Draft(
                kind=FeedKind.MESSAGE if applied.message is not None else FeedKind.PROGRESS,
                data=data,
                conversation_id=applied.conversation_id,
                task_id=event.task_id,
                source_at=event.occurred_at,
            )
        )
    return drafts


async def _ensure_conversations(
    session: AsyncSession, org: str, ordered: list[TaskEventV1]
) -> dict[str, Any]:
    """Every conversation of the batch exists, and is locked, in the order of their ids."""
    rows: dict[str, dict[str, Any]] = {}
    for event in ordered:
        conversation_id = conversation_of(event)
        title = event.detail.goal[:200] if isinstance(event.detail, TaskCreatedDetailV1) else ""
        row = rows.get(conversation_id)
        if row is None:
            rows[conversation_id] = {
                "org_id": org,
                "conversation_id": conversation_id,
                "title": title,
                "read_status": "unread",
                "created_at": event.occurred_at,
                "updated_at": event.occurred_at,
            }
            continue
        row["title"] = row["title"] or title
        row["created_at"] = min(row["created_at"], event.occurred_at)
        row["updated_at"] = max(row["updated_at"], event.occurred_at)
    statement = insert(conversations).values([rows[key] for key in sorted(rows)])
    upserted = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[conversations.c.org_id, conversations.c.conversation_id],
            set_={
                "title": func.coalesce(
                    func.nullif(conversations.c.title, ""), statement.excluded.title
                ),
                "created_at": func.least(conversations.c.created_at, statement.excluded.created_at),
                "updated_at": func.greatest(
                    conversations.c.updated_at, statement.excluded.updated_at
                ),
            },
        ).returning(*conversations.c)
    )
    return {row.conversation_id: row for row in upserted}


async def _claim(
    session: AsyncSession, org: str, ordered: list[TaskEventV1]
) -> set[tuple[str, int]]:
    """The events of the batch not applied before (each is claimed once, for good)."""
    claimed = await session.execute(
        insert(projected_events)
        .values([{"org_id": org, "task_id": e.task_id, "seq": e.seq} for e in ordered])
        .on_conflict_do_nothing()
        .returning(projected_events.c.task_id, projected_events.c.seq)
    )
    return {(row.task_id, row.seq) for row in claimed}


async def _track_tasks(session: AsyncSession, org: str, fresh: list[_Applied]) -> None:
    rows: dict[str, dict[str, Any]] = {}
    for applied in fresh:
        event = applied.event
        goal = event.detail.goal if isinstance(event.detail, TaskCreatedDetailV1) else ""
        row = rows.get(event.task_id)
        if row is None:
            rows[event.task_id] = {
                "org_id": org,
                "task_id": event.task_id,
                "conversation_id": applied.conversation_id,
                "goal": goal,
                "status": event.status.value,
                "last_seq": event.seq,
                "updated_at": event.occurred_at,
            }
            continue
        row["goal"] = row["goal"] or goal
        if event.seq > row["last_seq"]:
            row["status"] = event.status.value
            row["last_seq"] = event.seq
        row["updated_at"] = max(row["updated_at"], event.occurred_at)
    statement = insert(conversation_tasks).values([rows[key] for key in sorted(rows)])
    # Only a later event moves the status: an older one arriving late changes nothing.
    newer = statement.excluded.last_seq > conversation_tasks.c.last_seq
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[conversation_tasks.c.org_id, conversation_tasks.c.task_id],
            set_={
                "status": case(
                    (newer, statement.excluded.status), else_=conversation_tasks.c.status
                ),
                "last_seq": func.greatest(
                    conversation_tasks.c.last_seq, statement.excluded.last_seq
                ),
                "updated_at": func.greatest(
                    conversation_tasks.c.updated_at, statement.excluded.updated_at
                ),
                "goal": func.coalesce(
                    func.nullif(conversation_tasks.c.goal, ""), statement.excluded.goal
                ),
            },
        )
    )


async def _insert_messages(session: AsyncSession, org: str, fresh: list[_Applied]) -> None:
    speaking: list[_Applied] = []
    values: list[dict[str, Any]] = []
    for applied in fresh:
        event, draft = applied.event, applied.draft
        if draft is None:
            continue
        speaking.append(applied)
        values.append(
            {
                "org_id": org,
                "message_id": message_id_for(org, event.task_id, event.seq),
                "conversation_id": applied.conversation_id,
                "task_id": event.task_id,
                "task_seq": event.seq,
                "role": "agent",
                "agent_id": draft.agent_id,
                "kind": draft.kind,
                "body": draft.body,
                "data": draft.data,
                "checkpoint_id": draft.checkpoint_id,
                "created_at": event.occurred_at,
            }
        )
    if not values:
        return
    rows = (await session.execute(insert(messages).values(values).returning(*messages.c))).all()
    by_event = {(row.task_id, row.task_seq): row for row in rows}
    for applied in speaking:
        applied.message = by_event[(applied.event.task_id, applied.event.seq)]


async def _move_latest(session: AsyncSession, org: str, spoken: list[_Applied]) -> dict[str, Any]:
    """Each conversation's latest message (time, preview), whatever order they came in."""
    latest: dict[str, tuple[str, TaskEventV1, MessageDraft]] = {}
    for applied in spoken:
        if applied.draft is None:
            continue
        key = order_key(applied.event)
        found = latest.get(applied.conversation_id)
        if found is None or key > found[0]:
            latest[applied.conversation_id] = (key, applied.event, applied.draft)
    moved: dict[str, Any] = {}
    for conversation_id in sorted(latest):
        key, event, draft = latest[conversation_id]
        moved[conversation_id] = (
            await session.execute(
                update(conversations)
                .where(
                    conversations.c.org_id == org,
                    conversations.c.conversation_id == conversation_id,
                )
                .values(
                    last_message_at=func.greatest(
                        func.coalesce(conversations.c.last_message_at, event.occurred_at),
                        event.occurred_at,
                    ),
                    last_preview=case(
                        (conversations.c.last_message_key < key, draft.body[:200]),
                        else_=conversations.c.last_preview,
                    ),
                    last_message_key=func.greatest(conversations.c.last_message_key, key),
                    read_status="unread",
                    updated_at=func.greatest(conversations.c.updated_at, event.occurred_at),
                )
                .returning(*conversations.c)
            )
        ).one()
    return moved


def _event_json(event: TaskEventV1) -> dict[str, JsonValue]:
    detail = event.detail
    out: dict[str, JsonValue] = {
        "task_id": event.task_id,
        "seq": event.seq,
        "kind": event.kind.value,
        "status": event.status.value,
        "occurred_at": event.occurred_at.isoformat(),
    }
    step_id = getattr(detail, "step_id", None)
    if isinstance(step_id, str):
        out["step_id"] = step_id
    return out


async def _checkpoint_requested(
    session: AsyncSession, org: str, checkpoint_id: str, task_id: str, conversation_id: str
) -> str:
    statement = insert(checkpoints).values(
        org_id=org,
        checkpoint_id=checkpoint_id,
        task_id=task_id,
        conversation_id=conversation_id,
        status=CheckpointStatus.PENDING.value,
        requested=1,
    )
    row = (
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[checkpoints.c.org_id, checkpoints.c.checkpoint_id],
                set_={"requested": 1},
            ).returning(checkpoints.c.status)
        )
    ).one()
    return str(row.status)


async def _checkpoint_resolved(
    session: AsyncSession,
    org: str,
    detail: CheckpointResolvedDetailV1,
    task_id: str,
    conversation_id: str,
) -> dict[str, JsonValue]:
    statement = insert(checkpoints).values(
        org_id=org,
        checkpoint_id=detail.checkpoint_id,
        task_id=task_id,
        conversation_id=conversation_id,
        status=detail.status.value,
        requested=0,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[checkpoints.c.org_id, checkpoints.c.checkpoint_id],
            set_={"status": statement.excluded.status},
        )
    )
    message_id = (
        await session.execute(
            select(messages.c.message_id).where(
                messages.c.org_id == org, messages.c.checkpoint_id == detail.checkpoint_id
            )
        )
    ).scalar_one_or_none()
    return {
        "checkpoint_id": detail.checkpoint_id,
        "status": detail.status.value,
        "auto": detail.auto,
        "message_id": message_id,
    }


async def _recount_checkpoints(session: AsyncSession, org: str, conversation_id: str) -> Any:
    pending = (
        select(func.count())
        .select_from(checkpoints)
        .where(
            checkpoints.c.org_id == org,
            checkpoints.c.conversation_id == conversation_id,
            checkpoints.c.status == CheckpointStatus.PENDING.value,
            checkpoints.c.requested == 1,
        )
        .scalar_subquery()
    )
    return (
        await session.execute(
            update(conversations)
            .where(
                conversations.c.org_id == org, conversations.c.conversation_id == conversation_id
            )
            .values(pending_checkpoints=pending)
            .returning(*conversations.c)
        )
    ).one()
