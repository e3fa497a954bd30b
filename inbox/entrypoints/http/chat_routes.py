"""Chat with Flux: send a message, answer an approval, stop a reply, read the history.

The reply itself arrives on the caller's live stream (`GET /api/v1/stream`): `chat` events as
it is typed, and `message` entries for what stays in the thread.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts.ids import SubjectToken
from contracts.tentacle.chat import MAX_MESSAGE_CHARS
from inbox.domain.errors import InvalidRequest
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, authorize_caller
from inbox.entrypoints.http.task_routes import dump
from inbox.service import chat
from inbox.service.auth import Principal
from inbox.service.context import Inbox

router = APIRouter(prefix="/api/v1/chat", tags=["chat"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChatMessage(Body):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    message_id: SubjectToken | None = Field(
        default=None, description="Idempotency key: sending it again never asks Flux twice."
    )


class ApprovalAnswer(Body):
    approved: bool
    feedback: str | None = Field(default=None, max_length=4000)


class Cancel(Body):
    reply_id: SubjectToken | None = Field(
        default=None, description="Without it: the conversation's reply in progress."
    )


async def _may(
    inbox: Inbox,
    principal: Principal,
    request: Request,
    action: str,
    conversation_id: str | None = None,
) -> None:
    await authorize_caller(inbox, principal, request, action, "conversation", conversation_id)


async def _send(
    body: ChatMessage,
    conversation_id: str | None,
    principal: Principal,
    inbox: Inbox,
    request: Request,
) -> dict[str, Any]:
    text = body.text.strip()
    if not text:
        raise InvalidRequest("a message needs some text")
    await _may(inbox, principal, request, "inbox.message.create", conversation_id)
    await _may(inbox, principal, request, "tentacle.chat.create", conversation_id)
    return await chat.send(inbox, principal, conversation_id, text, body.message_id)


@router.post("", status_code=202)
async def start_chat(
    body: ChatMessage, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """A new conversation with Flux. 202: the reply streams on the live stream."""
    return await _send(body, None, principal, inbox, request)


@router.post("/{conversation_id}", status_code=202)
async def send_message(
    conversation_id: SubjectToken,
    body: ChatMessage,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
) -> dict[str, Any]:
    return await _send(body, conversation_id, principal, inbox, request)


@router.get("/{conversation_id}")
async def chat_history(
    conversation_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """Flux's record of the conversation: turns, replies (with any pending approval), tasks."""
    await _may(inbox, principal, request, "tentacle.chat.read", conversation_id)
    return dump(await chat.history(inbox, principal, conversation_id))


@router.post("/{conversation_id}/approvals/{approval_id}")
async def answer_approval(
    conversation_id: SubjectToken,
    approval_id: SubjectToken,
    body: ApprovalAnswer,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
) -> dict[str, Any]:
    await _may(inbox, principal, request, "tentacle.chat.update", conversation_id)
    reply = await chat.respond(
        inbox, principal, conversation_id, approval_id, body.approved, body.feedback
    )
    return {
        "reply_id": reply.reply_id,
        "approval_id": approval_id,
        "status": "approved" if body.approved else "declined",
    }


@router.post("/{conversation_id}/cancel")
async def cancel_reply(
    conversation_id: SubjectToken,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    body: Cancel | None = None,
) -> dict[str, Any]:
    await _may(inbox, principal, request, "tentacle.chat.update", conversation_id)
    reply_id = body.reply_id if body else None
    return dump(await chat.cancel(inbox, principal, conversation_id, reply_id))
