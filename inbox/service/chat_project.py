"""Flux's reply events into the thread: each lasting one a message and a feed entry.

Idempotent: a message's id comes from the reply and the event's number, so a redelivered or
replayed event inserts nothing and appends nothing. An approval card keeps its state in its
message; the tool's result (run, or refused as declined) is what settles it, so the card ends
right whichever replica or path the person answered through.
"""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue
from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert

from contracts.inbox.models import FeedEntryV1, FeedKind
from contracts.tentacle.chat import ChatEventV1
from inbox.adapters.tables import conversations, messages
from inbox.domain.chat import ApprovalStatus, ChatKind, chat_message_for, chat_message_id
from inbox.service import feed
from inbox.service.context import Inbox
from inbox.service.records import conversation_json, message_json

DECLINED_CODE = "tentacle.tool_declined"


async def project_chat(inbox: Inbox, event: ChatEventV1) -> None:
    draft = chat_message_for(event)
    if draft is None:
        return
    org = event.org_id
    at = event.occurred_at
    entries: list[FeedEntryV1] = []
    async with inbox.db.transaction(org_id=org) as uow:
        session = uow.session
        statement = insert(conversations).values(
            org_id=org,
            conversation_id=event.conversation_id,
            title="",
            read_status="unread",
            created_at=at,
            updated_at=at,
        )
        await session.execute(statement.on_conflict_do_nothing())
        row = (
            await session.execute(
                insert(messages)
                .values(
                    org_id=org,
                    message_id=chat_message_id(org, event.reply_id, event.seq),
                    conversation_id=event.conversation_id,
                    task_seq=event.seq,
                    role="agent",
                    agent_id=draft.agent_id,
                    kind=draft.kind,
                    body=draft.body,
                    data=draft.data,
                    created_at=at,
                )
                .on_conflict_do_nothing()
                .returning(*messages.c)
            )
        ).one_or_none()
        if row is None:
            return  # projected before
        settled: list[Any] = []
        if draft.kind == ChatKind.TOOL_RESULT:
            settled = await _settle_approvals(session, event, draft.data)
        if draft.kind in (ChatKind.REPLY, ChatKind.APPROVAL, ChatKind.ERROR):
            key = f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}|{event.seq:010d}|{event.reply_id}"
            await session.execute(
                update(conversations)
                .where(
                    conversations.c.org_id == org,
                    conversations.c.conversation_id == event.conversation_id,
                )
                .values(
                    last_message_at=func.greatest(
                        func.coalesce(conversations.c.last_message_at, at), at
                    ),
                    last_preview=case(
                        (conversations.c.last_message_key < key, draft.body[:200]),
                        else_=conversations.c.last_preview,
                    ),
                    last_message_key=func.greatest(conversations.c.last_message_key, key),
                    updated_at=func.greatest(conversations.c.updated_at, at),
                )
            )
        conversation = conversation_json(
            (
                await session.execute(
                    select(conversations).where(
                        conversations.c.org_id == org,
                        conversations.c.conversation_id == event.conversation_id,
                    )
                )
            ).one()
        )
        for changed in (*settled, row):
            data: dict[str, JsonValue] = {
                "message": message_json(changed),
                "conversation": conversation,
            }
            entries.append(
                await feed.append(
                    uow,
                    org_id=org,
                    kind=FeedKind.MESSAGE,
                    data=data,
                    conversation_id=event.conversation_id,
                    source_at=at,
                )
            )
    for entry in entries:
        await feed.announce(inbox.bus, entry)


async def _settle_approvals(
    session: Any, event: ChatEventV1, result: dict[str, JsonValue]
) -> list[Any]:
    """The reply's pending approval of this tool is settled by the tool's result."""
    error = result.get("error")
    declined = isinstance(error, dict) and error.get("code") == DECLINED_CODE
    status = ApprovalStatus.DECLINED if declined else ApprovalStatus.APPROVED
    rows = (
        await session.execute(
            update(messages)
            .where(
                messages.c.org_id == event.org_id,
                messages.c.conversation_id == event.conversation_id,
                messages.c.kind == ChatKind.APPROVAL,
                messages.c.data["reply_id"].astext == event.reply_id,
                messages.c.data["status"].astext == ApprovalStatus.PENDING,
                messages.c.data["approval"]["tool"].astext == str(result.get("name")),
            )
            .values(data=messages.c.data.op("||")(func.jsonb_build_object("status", status)))
            .returning(*messages.c)
        )
    ).all()
    return list(rows)
