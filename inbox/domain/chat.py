"""What Flux's streamed reply events leave in a conversation's thread.

Deltas are the reply being typed: they only travel live (see `inbox.service.chat_relay`). The
events a person must still see after a reload (a tool call, its result, an approval request,
the reply's end) each become a message whose id is derived from the reply and the event's
number, so a redelivered event, a replayed stream and the live copy the browser already drew
all name the same message.
"""

from __future__ import annotations

import json
import uuid
from typing import Final

from pydantic import JsonValue

from contracts.tentacle.chat import ChatEventV1
from inbox.domain.errors import InboxError
from inbox.domain.messages import MessageDraft

FLUX: Final = "flux"
"""The agent id of Flux's messages."""

_NAMESPACE: Final = uuid.UUID("9a3c5a52-0f1e-4f0b-8a58-636861742d31")
_MAX_RESULT_CHARS: Final = 8_000


class ChatKind:
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    APPROVAL = "chat_approval"
    REPLY = "chat_reply"
    ERROR = "chat_error"


class ApprovalStatus:
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class ChatMessageConflict(InboxError):
    code = "inbox.chat_message_conflict"
    status = 409


class ApprovalNotPending(InboxError):
    code = "inbox.approval_not_pending"
    status = 409


def chat_message_id(org_id: str, reply_id: str, seq: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{org_id}\x00{reply_id}\x00{seq}"))


def _bounded(value: JsonValue) -> JsonValue:
    """A tool's answer as stored for the card: whole when small, else a readable preview."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= _MAX_RESULT_CHARS else {"preview": text[:_MAX_RESULT_CHARS]}


def chat_message_for(event: ChatEventV1) -> MessageDraft | None:
    detail = event.detail
    base: dict[str, JsonValue] = {"reply_id": event.reply_id, "seq": event.seq}
    if detail.kind == "tool_call":
        call = detail.call
        return MessageDraft(
            kind=ChatKind.TOOL_CALL,
            agent_id=FLUX,
            body=call.name,
            data={**base, "call": call.model_dump(mode="json")},
        )
    if detail.kind == "tool_result":
        error = detail.error.model_dump(mode="json") if detail.error else None
        return MessageDraft(
            kind=ChatKind.TOOL_RESULT,
            agent_id=FLUX,
            body=detail.name if detail.ok else (detail.error.message if detail.error else "failed"),
            data={
                **base,
                "call_id": detail.call_id,
                "name": detail.name,
                "ok": detail.ok,
                "result": _bounded(detail.result),
                "error": error,
            },
        )
    if detail.kind == "approval_needed":
        return MessageDraft(
            kind=ChatKind.APPROVAL,
            agent_id=FLUX,
            body=detail.approval.summary,
            data={
                **base,
                "approval": detail.approval.model_dump(mode="json"),
                "status": ApprovalStatus.PENDING,
            },
        )
    if detail.kind == "done":
        return MessageDraft(
            kind=ChatKind.REPLY,
            agent_id=FLUX,
            body=detail.text,
            data={**base, "status": "complete", "cost_usd": detail.cost_usd},
        )
    if detail.kind == "cancelled":
        return MessageDraft(
            kind=ChatKind.REPLY,
            agent_id=FLUX,
            body=detail.partial_text,
            data={**base, "status": "cancelled"},
        )
    if detail.kind == "error":
        return MessageDraft(
            kind=ChatKind.ERROR,
            agent_id=FLUX,
            body=detail.error.message,
            data={**base, "code": detail.error.code},
        )
    return None  # started, delta: live only
