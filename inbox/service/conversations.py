"""Conversations and their messages, as people read and change them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import JsonValue
from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from contracts.ids import new_id
from contracts.inbox.models import FeedEntryV1, FeedKind
from inbox.adapters.tables import checkpoints, conversations, messages
from inbox.domain.errors import NotFound
from inbox.domain.messages import MessageKind
from inbox.service import feed
from inbox.service.context import Inbox
from inbox.service.records import conversation_json, message_json
from shared.db import UnitOfWork


class ReadStatus(StrEnum):
    UNREAD = "unread"
    READ = "read"
    ARCHIVED = "archived"


class Priority(StrEnum):
    NORMAL = "normal"
    ATTENTION = "attention"


def _parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


async def list_conversations(
    inbox: Inbox,
    org_id: str,
    *,
    limit: int,
    cursor: str | None,
    read_status: ReadStatus | None,
    priority: Priority | None,
) -> tuple[list[dict[str, JsonValue]], str | None]:
    scope = f"conversations:{org_id}"
    query = select(conversations).where(conversations.c.org_id == org_id)
    if read_status is not None:
        query = query.where(conversations.c.read_status == read_status.value)
    else:  # archived conversations only show when asked for
        query = query.where(conversations.c.read_status != ReadStatus.ARCHIVED.value)
    if priority is Priority.ATTENTION:
        query = query.where(conversations.c.pending_checkpoints > 0)
    elif priority is Priority.NORMAL:
        query = query.where(conversations.c.pending_checkpoints == 0)
    if cursor is not None:
        at_text, last_id = inbox.cursors.decode(scope, cursor, 2)
        at = _parse_time(at_text)
        query = query.where(
            or_(
                conversations.c.updated_at < at,
                and_(conversations.c.updated_at == at, conversations.c.conversation_id < last_id),
            )
        )
    query = query.order_by(
        conversations.c.updated_at.desc(), conversations.c.conversation_id.desc()
    ).limit(limit + 1)
    async with inbox.db.transaction(org_id=org_id) as uow:
        rows = (await uow.session.execute(query)).all()
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = inbox.cursors.encode(
            scope, [last.updated_at.isoformat(), last.conversation_id]
        )
    return [conversation_json(r) for r in page], next_cursor


async def get_conversation(inbox: Inbox, org_id: str, conversation_id: str) -> dict[str, JsonValue]:
    async with inbox.db.transaction(org_id=org_id) as uow:
        row = (
            await uow.session.execute(
                select(conversations).where(
                    conversations.c.org_id == org_id,
                    conversations.c.conversation_id == conversation_id,
                )
            )
        ).one_or_none()
    if row is None:
        raise NotFound("no such conversation")
    return conversation_json(row)


async def set_read_status(
    inbox: Inbox, org_id: str, conversation_id: str, status: ReadStatus
) -> dict[str, JsonValue]:
    async with inbox.db.transaction(org_id=org_id) as uow:
        row = (
            await uow.session.execute(
                update(conversations)
                .where(
                    conversations.c.org_id == org_id,
                    conversations.c.conversation_id == conversation_id,
                )
                .values(read_status=status.value)
                .returning(*conversations.c)
            )
        ).one_or_none()
        if row is None:
            raise NotFound("no such conversation")
        data = conversation_json(row)
        entry = await feed.append(
            uow,
            org_id=org_id,
            kind=FeedKind.CONVERSATION,
            data={"conversation": data},
            conversation_id=conversation_id,
        )
    await feed.announce(inbox, entry)
    return data


async def list_messages(
    inbox: Inbox, org_id: str, conversation_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, JsonValue]], str | None]:
    """Oldest first; the cursor continues after the last message of the previous page."""
    scope = f"messages:{org_id}:{conversation_id}"
    query = (
        select(messages, checkpoints.c.status.label("checkpoint_status"))
        .select_from(
            messages.outerjoin(
                checkpoints,
                and_(
                    checkpoints.c.org_id == messages.c.org_id,
                    checkpoints.c.checkpoint_id == messages.c.checkpoint_id,
                ),
            )
        )
        .where(messages.c.org_id == org_id, messages.c.conversation_id == conversation_id)
    )
    # A task's events of one cycle share their time: its sequence number keeps them in order.
    seq = func.coalesce(messages.c.task_seq, 0)
    if cursor is not None:
        at_text, last_seq, last_id = inbox.cursors.decode(scope, cursor, 3)  # signed: ours
        key = tuple_(_parse_time(at_text), int(last_seq), last_id)
        query = query.where(tuple_(messages.c.created_at, seq, messages.c.message_id) > key)
    query = query.order_by(messages.c.created_at, seq, messages.c.message_id).limit(limit + 1)
    async with inbox.db.transaction(org_id=org_id) as uow:
        exists = (
            await uow.session.execute(
                select(func.count())
                .select_from(conversations)
                .where(
                    conversations.c.org_id == org_id,
                    conversations.c.conversation_id == conversation_id,
                )
            )
        ).scalar_one()
        if not exists:
            raise NotFound("no such conversation")
        rows = (await uow.session.execute(query)).all()
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = inbox.cursors.encode(
            scope, [last.created_at.isoformat(), last.task_seq or 0, last.message_id]
        )
    return [message_json(r, r.checkpoint_status) for r in page], next_cursor


async def post_user_message(
    inbox: Inbox,
    org_id: str,
    user_id: str,
    conversation_id: str | None,
    text: str,
) -> dict[str, JsonValue]:
    """Store what the person wrote (creating the conversation if it is new)."""
    async with inbox.db.transaction(org_id=org_id) as uow:
        message, entry = await record_user_message(
            uow,
            org_id=org_id,
            user_id=user_id,
            conversation_id=conversation_id or new_id(),
            message_id=new_id(),
            text=text,
        )
    await feed.announce(inbox, entry)
    return message


async def record_user_message(
    uow: UnitOfWork,
    *,
    org_id: str,
    user_id: str,
    conversation_id: str,
    message_id: str,
    text: str,
    data: dict[str, JsonValue] | None = None,
) -> tuple[dict[str, JsonValue], FeedEntryV1]:
    """In `uow`: the person's message in its conversation (created if new, else moved to the
    top), and its feed entry; announce the entry after the commit."""
    now = datetime.now(UTC)
    key = f"{now.strftime('%Y-%m-%dT%H:%M:%S.%f')}|{0:010d}|{message_id}"
    session = uow.session
    statement = insert(conversations).values(
        org_id=org_id,
        conversation_id=conversation_id,
        title=text[:120],
        read_status=ReadStatus.READ.value,
        created_at=now,
        updated_at=now,
        last_message_at=now,
        last_preview=text[:200],
        last_message_key=key,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[conversations.c.org_id, conversations.c.conversation_id],
            set_={
                "updated_at": now,
                "last_message_at": now,
                "last_preview": text[:200],
                "last_message_key": key,
            },
        )
    )
    row = (
        await session.execute(
            insert(messages)
            .values(
                org_id=org_id,
                message_id=message_id,
                conversation_id=conversation_id,
                role="user",
                agent_id=user_id,
                kind=MessageKind.TEXT,
                body=text,
                data=data or {},
                created_at=now,
            )
            .returning(*messages.c)
        )
    ).one()
    conversation = (
        await session.execute(
            select(conversations).where(
                conversations.c.org_id == org_id,
                conversations.c.conversation_id == conversation_id,
            )
        )
    ).one()
    message = message_json(row)
    entry = await feed.append(
        uow,
        org_id=org_id,
        kind=FeedKind.MESSAGE,
        data={"message": message, "conversation": conversation_json(conversation)},
        conversation_id=conversation_id,
        source_at=now,
    )
    return message, entry
