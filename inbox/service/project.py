"""The projection: task lifecycle events in, conversations and messages out.

Idempotent and order-tolerant. An event is applied once, keyed by its task and sequence number
(`projected_events`), so a redelivery or a replay of the whole stream changes nothing twice and
a fresh database rebuilt from the stream holds the same conversations and messages (their ids
and times come from the events). Checkpoints keep their state in their own row, so a
resolution that overtakes its request still leaves the checkpoint resolved, and a conversation's
priority is recounted from those rows rather than incremented.
"""

from __future__ import annotations

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
from inbox.domain.messages import conversation_of, message_for, message_id_for, order_key
from inbox.service import feed
from inbox.service.context import Inbox
from inbox.service.records import conversation_json, message_json


async def project(inbox: Inbox, event: TaskEventV1) -> None:
    org = event.org_id
    async with inbox.db.transaction(org_id=org) as uow:
        session = uow.session
        claimed = await session.execute(
            insert(projected_events)
            .values(org_id=org, task_id=event.task_id, seq=event.seq)
            .on_conflict_do_nothing()
            .returning(projected_events.c.seq)
        )
        if claimed.first() is None:
            return
        conversation_id = conversation_of(event)
        await _track_task(session, event, conversation_id)
        await _ensure_conversation(session, event, conversation_id)
        message: dict[str, JsonValue] | None = None
        draft = message_for(event)
        if draft is not None:
            message_id = message_id_for(org, event.task_id, event.seq)
            row = (
                await session.execute(
                    insert(messages)
                    .values(
                        org_id=org,
                        message_id=message_id,
                        conversation_id=conversation_id,
                        task_id=event.task_id,
                        task_seq=event.seq,
                        role="agent",
                        agent_id=draft.agent_id,
                        kind=draft.kind,
                        body=draft.body,
                        data=draft.data,
                        checkpoint_id=draft.checkpoint_id,
                        created_at=event.occurred_at,
                    )
                    .returning(*messages.c)
                )
            ).one()
            status = None
            if draft.checkpoint_id is not None:
                status = await _checkpoint_requested(
                    session, org, draft.checkpoint_id, event.task_id, conversation_id
                )
            message = message_json(row, status)
            key = order_key(event)
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
                    # The latest message's, whatever order the events are applied in.
                    last_preview=case(
                        (conversations.c.last_message_key < key, draft.body[:200]),
                        else_=conversations.c.last_preview,
                    ),
                    last_message_key=func.greatest(conversations.c.last_message_key, key),
                    read_status="unread",
                    updated_at=func.greatest(conversations.c.updated_at, event.occurred_at),
                )
            )
        resolved: dict[str, JsonValue] | None = None
        if isinstance(event.detail, CheckpointResolvedDetailV1):
            resolved = await _checkpoint_resolved(
                session, org, event.detail, event.task_id, conversation_id
            )
        await _recount_checkpoints(session, org, conversation_id)
        conversation = (
            await session.execute(
                select(conversations).where(
                    conversations.c.org_id == org,
                    conversations.c.conversation_id == conversation_id,
                )
            )
        ).one()
        data: dict[str, JsonValue] = {
            "event": _event_json(event),
            "conversation": conversation_json(conversation),
        }
        if message is not None:
            data["message"] = message
        if resolved is not None:
            data["checkpoint"] = resolved
        entry = await feed.append(
            uow,
            org_id=org,
            kind=FeedKind.MESSAGE if message is not None else FeedKind.PROGRESS,
            data=data,
            conversation_id=conversation_id,
            task_id=event.task_id,
            source_at=event.occurred_at,
        )
    await feed.announce(inbox.bus, entry)


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


async def _track_task(session: AsyncSession, event: TaskEventV1, conversation_id: str) -> None:
    goal = event.detail.goal if isinstance(event.detail, TaskCreatedDetailV1) else ""
    statement = insert(conversation_tasks).values(
        org_id=event.org_id,
        task_id=event.task_id,
        conversation_id=conversation_id,
        goal=goal,
        status=event.status.value,
        last_seq=event.seq,
        updated_at=event.occurred_at,
    )
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


async def _ensure_conversation(
    session: AsyncSession, event: TaskEventV1, conversation_id: str
) -> None:
    title = event.detail.goal[:200] if isinstance(event.detail, TaskCreatedDetailV1) else ""
    statement = insert(conversations).values(
        org_id=event.org_id,
        conversation_id=conversation_id,
        title=title,
        read_status="unread",
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
    )
    await session.execute(
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
        )
    )


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


async def _recount_checkpoints(session: AsyncSession, org: str, conversation_id: str) -> None:
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
    await session.execute(
        update(conversations)
        .where(conversations.c.org_id == org, conversations.c.conversation_id == conversation_id)
        .values(pending_checkpoints=pending)
    )
