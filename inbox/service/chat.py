"""Chatting with Flux on a person's behalf: their message into the thread and on to Flux,
their answer to an approval, a cancelled reply, the conversation's history.

The message and the `CHAT_SEND` command commit together (the command goes through the outbox),
so a message in the thread is always one Flux will answer, and a retry with the same message
id finds the stored one instead of asking twice.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import JsonValue
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.ids import new_id
from contracts.model import ContractModel
from contracts.subject import Subject
from contracts.tentacle.chat import (
    CHAT_CANCEL,
    CHAT_HISTORY,
    CHAT_RESPOND,
    CHAT_SEND,
    CancelChatReplyV1,
    ChatHistoryV1,
    ChatReplyV1,
    GetChatHistoryV1,
    ReplyStatus,
    RespondChatApprovalV1,
    SendChatMessageV1,
    chat_reply_id,
)
from inbox.adapters.tables import conversations, messages
from inbox.domain.chat import ApprovalNotPending, ChatKind, ChatMessageConflict
from inbox.domain.errors import InboxError, NotFound
from inbox.service import feed
from inbox.service.auth import Principal
from inbox.service.context import Inbox
from inbox.service.conversations import record_user_message
from inbox.service.records import message_json
from inbox.service.remote import as_http_error
from shared.errors import FluxosError

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=Any)


async def send(
    inbox: Inbox,
    principal: Principal,
    conversation_id: str | None,
    text: str,
    message_id: str | None = None,
) -> dict[str, JsonValue]:
    """Store the person's message (starting the conversation when `conversation_id` is None)
    and send it to Flux. Returns the message, the conversation and the reply's id."""
    org = principal.org_id
    new = conversation_id is None
    conversation_id = conversation_id or new_id()
    message_id = message_id or new_id()
    reply_id = chat_reply_id(org, message_id)
    async with inbox.db.transaction(org_id=org) as uow:
        session = uow.session
        if not new and not await _exists(session, org, conversation_id):
            raise NotFound("no such conversation")
        found = (
            await session.execute(
                select(messages).where(
                    messages.c.org_id == org, messages.c.message_id == message_id
                )
            )
        ).one_or_none()
        if found is not None:
            if (
                found.body != text
                or found.conversation_id != conversation_id
                or found.role != "user"
            ):
                raise ChatMessageConflict("this message id was used for another message")
            return {
                "message": message_json(found),
                "conversation_id": conversation_id,
                "reply_id": reply_id,
            }
        message, entry = await record_user_message(
            uow,
            org_id=org,
            user_id=principal.user_id,
            conversation_id=conversation_id,
            message_id=message_id,
            text=text,
            data={"reply_id": reply_id},
        )
        uow.publish(
            inbox.bus.message(
                CHAT_SEND,
                SendChatMessageV1(
                    conversation_id=conversation_id, message_id=message_id, text=text
                ),
                org_id=org,
                actor=principal.actor,
            )
        )
    await feed.announce(inbox, entry)
    return {"message": message, "conversation_id": conversation_id, "reply_id": reply_id}


async def _exists(session: AsyncSession, org: str, conversation_id: str) -> bool:
    query = select(conversations.c.conversation_id).where(
        conversations.c.org_id == org, conversations.c.conversation_id == conversation_id
    )
    return (await session.execute(query)).first() is not None


async def require_conversation(inbox: Inbox, org: str, conversation_id: str) -> None:
    """Another organisation's conversation looks exactly like a missing one."""
    async with inbox.db.transaction(org_id=org) as uow:
        found = await _exists(uow.session, org, conversation_id)
    if not found:
        raise NotFound("no such conversation")


async def history(inbox: Inbox, principal: Principal, conversation_id: str) -> ChatHistoryV1:
    await require_conversation(inbox, principal.org_id, conversation_id)
    return await _ask(
        inbox, principal, CHAT_HISTORY, GetChatHistoryV1(conversation_id=conversation_id)
    )


async def streaming_reply(inbox: Inbox, principal: Principal, conversation_id: str) -> str | None:
    """The reply Flux is typing in the conversation, if any (for a page's Stop button)."""
    try:
        state = await history(inbox, principal, conversation_id)
    except InboxError:
        return None  # no chat here, or tentacle busy: the page shows without it
    running = [r.reply_id for r in state.replies if r.status is ReplyStatus.RUNNING]
    return running[-1] if running else None


async def respond(
    inbox: Inbox,
    principal: Principal,
    conversation_id: str,
    approval_id: str,
    approved: bool,
    feedback: str | None,
) -> ChatReplyV1:
    """Answer the approval a reply waits on. `CHAT_RESPOND` is a command (no answer comes
    back), so the approval is checked against Flux's own record first: an unknown or already
    answered one is refused here, with nothing sent."""
    state = await history(inbox, principal, conversation_id)
    waiting = [
        r for r in state.replies if r.pending is not None and r.pending.approval_id == approval_id
    ]
    if not waiting:
        if await _approval_shown(inbox, principal.org_id, conversation_id, approval_id):
            raise ApprovalNotPending("this approval was already answered")
        raise NotFound("no such approval in this conversation")
    reply = waiting[0]
    if reply.status is not ReplyStatus.AWAITING_APPROVAL:
        raise ApprovalNotPending("this approval was already answered")
    payload = RespondChatApprovalV1(
        conversation_id=conversation_id,
        reply_id=reply.reply_id,
        approval_id=approval_id,
        approved=approved,
        feedback=feedback,
    )
    try:
        await inbox.bus.publish(
            CHAT_RESPOND, payload, org_id=principal.org_id, actor=principal.actor
        )
    except FluxosError as exc:
        raise as_http_error(exc) from None
    return reply


async def _approval_shown(inbox: Inbox, org: str, conversation_id: str, approval_id: str) -> bool:
    query = select(messages.c.message_id).where(
        messages.c.org_id == org,
        messages.c.conversation_id == conversation_id,
        messages.c.kind == ChatKind.APPROVAL,
        messages.c.data["approval"]["approval_id"].astext == approval_id,
    )
    async with inbox.db.transaction(org_id=org) as uow:
        return (await uow.session.execute(query)).first() is not None


async def cancel(
    inbox: Inbox, principal: Principal, conversation_id: str, reply_id: str | None
) -> ChatReplyV1:
    await require_conversation(inbox, principal.org_id, conversation_id)
    return await _ask(
        inbox,
        principal,
        CHAT_CANCEL,
        CancelChatReplyV1(conversation_id=conversation_id, reply_id=reply_id),
    )


async def _ask(inbox: Inbox, principal: Principal, subject: Subject[P, R], payload: P) -> R:
    try:
        return await inbox.bus.request(
            subject,
            payload,
            org_id=principal.org_id,
            actor=principal.actor,
            timeout=inbox.timeout,
        )
    except FluxosError as exc:
        raise as_http_error(exc) from None
