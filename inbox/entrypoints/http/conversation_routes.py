"""Conversations and messages: what the projection built, read and organised by people."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts.ids import SubjectToken
from contracts.tentacle import subjects as ts
from contracts.tentacle.models import CreateTaskV1
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, authorize_caller
from inbox.entrypoints.http.task_routes import as_caller, dump
from inbox.service import conversations as conv

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Compose(Body):
    text: str = Field(min_length=1, max_length=4000)


class ReadState(Body):
    read_status: conv.ReadStatus


@router.get("")
async def list_conversations(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    read_status: conv.ReadStatus | None = None,
    priority: conv.Priority | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "inbox.conversation.list", "conversation")
    items, next_cursor = await conv.list_conversations(
        inbox,
        principal.org_id,
        limit=limit,
        cursor=cursor,
        read_status=read_status,
        priority=priority,
    )
    return {"conversations": items, "next_cursor": next_cursor}


@router.post("", status_code=201)
async def start_conversation(
    body: Compose, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """A new conversation with the agent: the message is stored and becomes a task."""
    return await _compose(body, None, principal, inbox, request)


@router.get("/{conversation_id}")
async def get_conversation(
    conversation_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(
        inbox, principal, request, "inbox.conversation.read", "conversation", conversation_id
    )
    return await conv.get_conversation(inbox, principal.org_id, conversation_id)


@router.patch("/{conversation_id}")
async def set_read_status(
    conversation_id: SubjectToken,
    body: ReadState,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
) -> dict[str, Any]:
    await authorize_caller(
        inbox, principal, request, "inbox.conversation.update", "conversation", conversation_id
    )
    return await conv.set_read_status(inbox, principal.org_id, conversation_id, body.read_status)


@router.get("/{conversation_id}/messages")
async def list_messages(
    conversation_id: SubjectToken,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    await authorize_caller(
        inbox, principal, request, "inbox.conversation.read", "conversation", conversation_id
    )
    items, next_cursor = await conv.list_messages(
        inbox, principal.org_id, conversation_id, limit=limit, cursor=cursor
    )
    return {"messages": items, "next_cursor": next_cursor}


@router.post("/{conversation_id}/messages", status_code=201)
async def post_message(
    conversation_id: SubjectToken,
    body: Compose,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
) -> dict[str, Any]:
    await conv.get_conversation(inbox, principal.org_id, conversation_id)  # 404 if not ours
    return await _compose(body, conversation_id, principal, inbox, request)


async def _compose(
    body: Compose,
    conversation_id: str | None,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "inbox.message.create", "conversation")
    await authorize_caller(inbox, principal, request, "tentacle.task.create", "task")
    message = await conv.post_user_message(
        inbox, principal.org_id, principal.user_id, conversation_id, body.text
    )
    # The message's id is the task's request id: asking again after a failure finds the task.
    task = await as_caller(
        inbox,
        principal,
        ts.TASK_CREATE_RPC,
        CreateTaskV1(
            request_id=str(message["message_id"]),
            goal=body.text,
            conversation_id=str(message["conversation_id"]),
        ),
    )
    return {"message": message, "task": dump(task)}
