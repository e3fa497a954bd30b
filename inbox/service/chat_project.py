"""Flux's reply events into the thread: each lasting one a message and a feed entry.

Idempotent: a message's id comes from the reply and the event's number, so a redelivered or
replayed event inserts nothing and appends nothing. An approval card keeps its state in its
message; the tool's result (run, or refused as declined) is what settles it, so the card ends
right whichever replica or path the person answered through; a reply that ends without one
(the person moved on to another message, the reply failed) leaves it declined. While it waits,
an approval counts as a pending checkpoint of the conversation (it waits for the person just
the same), so the conversation shows as needing them.
"""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue
from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert

from contracts.inbox.models import FeedEntryV1, FeedKind
from contracts.tentacle.chat import ChatEventV1
from contracts.tentacle.checkpoints import CheckpointStatus
from inbox.adapters.tables import checkpoints, conversations, messages
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
        if draft.kind == ChatKind.APPROVAL:
            await _approval_waits(session, event, draft.data)
        elif draft.kind == ChatKind.TOOL_RESULT:
            settled = await _settle_approvals(
                session, event, _result_status(draft.data), tool=str(draft.data["name"])
            )
        elif draft.kind in (ChatKind.REPLY, ChatKind.ERROR) and event.seq > 1:
            # Ending right after the approval request: it was never answered (the person
            # moved on). Only then: a reply that ends later ran or declined the tool already,
            # and that tool result may be projected after this end.
            settled = await _settle_approvals(
                session, event, ApprovalStatus.DECLINED, requested_at=event.seq - 1
            )
        if settled or draft.kind == ChatKind.APPROVAL:
            await _recount(session, org, event.conversation_id)
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
        await feed.announce(inbox, entry)


def _result_status(result: dict[str, JsonValue]) -> str:
    error = result.get("error")
    declined = isinstance(error, dict) and error.get("code") == DECLINED_CODE
    return ApprovalStatus.DECLINED if declined else ApprovalStatus.APPROVED


async def _approval_waits(session: Any, event: ChatEventV1, data: dict[str, JsonValue]) -> None:
    approval = data["approval"]
    assert isinstance(approval, dict)
    await session.execute(
        insert(checkpoints)
        .values(
            org_id=event.org_id,
            checkpoint_id=str(approval["approval_id"]),
            task_id=event.reply_id,
            conversation_id=event.conversation_id,
            status=CheckpointStatus.PENDING.value,
            requested=1,
        )
        .on_conflict_do_nothing()
    )


async def _settle_approvals(
    session: Any,
    event: ChatEventV1,
    status: str,
    *,
    tool: str | None = None,
    requested_at: int | None = None,
) -> list[Any]:
    """Settle the reply's pending approval: by the tool's result, or declined at its end."""
    which = []
    if tool is not None:
        which.append(messages.c.data["approval"]["tool"].astext == tool)
    if requested_at is not None:
        which.append(messages.c.task_seq == requested_at)
    rows = (
        await session.execute(
            update(messages)
            .where(
                *which,
                messages.c.org_id == event.org_id,
                messages.c.conversation_id == event.conversation_id,
                messages.c.kind == ChatKind.APPROVAL,
                messages.c.data["reply_id"].astext == event.reply_id,
                messages.c.data["status"].astext == ApprovalStatus.PENDING,
            )
            .values(data=messages.c.data.op("||")(func.jsonb_build_object("status", status)))
            .returning(*messages.c)
        )
    ).all()
    ids = [row.data["approval"]["approval_id"] for row in rows]
    if ids:
        final = (
            CheckpointStatus.APPROVED
            if status == ApprovalStatus.APPROVED
            else CheckpointStatus.REJECTED
        )
        await session.execute(
            update(checkpoints)
            .where(checkpoints.c.org_id == event.org_id, checkpoints.c.checkpoint_id.in_(ids))
            .values(status=str(final))
        )
    return list(rows)


async def _recount(session: Any, org: str, conversation_id: str) -> None:
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
