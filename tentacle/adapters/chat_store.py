"""Reading and writing Flux's replies and turns (asyncpg, inside a unit of work of `TaskDb`).

Every statement runs in a unit scoped to the conversation's organisation: row-level security
keeps another organisation's conversations out of sight whatever the query says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from contracts.envelope import Actor, ErrorV1
from contracts.tentacle.chat import (
    ChatReplyV1,
    ChatRole,
    ChatTurnV1,
    PendingApprovalV1,
    ReplyStatus,
    ToolCallV1,
    TurnStatus,
)
from tentacle.adapters.pg import Conn

_REPLY_COLUMNS: Final = """
    org_id, reply_id, conversation_id, message_id, text_digest, status, pending, error,
    event_seq, rounds, round_seq, cancel_requested, actor, created_at, updated_at
"""
_INSERT_REPLY: Final = f"""
    INSERT INTO chat_replies (org_id, reply_id, conversation_id, message_id, text_digest,
                              status, actor, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, 'running', $6::jsonb, $7, $7)
    ON CONFLICT DO NOTHING
    RETURNING {_REPLY_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_GET_REPLY: Final = f"SELECT {_REPLY_COLUMNS} FROM chat_replies WHERE reply_id = $1"  # noqa: S608
_LOCK_REPLY: Final = _GET_REPLY + " FOR UPDATE"
_ACTIVE: Final = f"""
    SELECT {_REPLY_COLUMNS} FROM chat_replies
     WHERE conversation_id = $1 AND status IN ('running', 'awaiting_approval')
       AND reply_id <> $2
     ORDER BY created_at
"""  # noqa: S608 - constant columns, bound values
_LATEST_ACTIVE: Final = f"""
    SELECT {_REPLY_COLUMNS} FROM chat_replies
     WHERE conversation_id = $1 AND status IN ('running', 'awaiting_approval')
     ORDER BY created_at DESC LIMIT 1
"""  # noqa: S608 - constant columns, bound values
_REPLIES: Final = f"""
    SELECT {_REPLY_COLUMNS} FROM chat_replies WHERE conversation_id = $1
     ORDER BY created_at DESC LIMIT $2
"""  # noqa: S608 - constant columns, bound values
_SET_STATE: Final = f"""
    UPDATE chat_replies SET status = $2, pending = $3::jsonb, error = $4::jsonb,
           event_seq = greatest(event_seq, $5), updated_at = $6
     WHERE reply_id = $1
    RETURNING {_REPLY_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_NEXT_ROUND: Final = """
    UPDATE chat_replies SET rounds = rounds + 1, event_seq = greatest(event_seq, $2),
           round_seq = $2, updated_at = $3
     WHERE reply_id = $1
    RETURNING rounds
"""
_BEAT: Final = """
    UPDATE chat_replies SET event_seq = greatest(event_seq, $2), updated_at = $3
     WHERE reply_id = $1
    RETURNING cancel_requested
"""
_REQUEST_CANCEL: Final = f"""
    UPDATE chat_replies SET cancel_requested = coalesce(cancel_requested, $2), updated_at = $2
     WHERE reply_id = $1
    RETURNING {_REPLY_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_TURN_COLUMNS: Final = """
    seq, reply_id, message_id, role, text, tool_calls, tool_call_id, tool_name, result, status,
    actor, created_at
"""
# Turns of one conversation are numbered by the writer, under the reply's row lock; the
# primary key refuses a second writer that slipped past it.
_APPEND_TURN: Final = f"""
    INSERT INTO chat_turns (org_id, conversation_id, seq, reply_id, message_id, role, text,
                            tool_calls, tool_call_id, tool_name, result, status, actor,
                            created_at)
    SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::jsonb,
           $11, $12::jsonb, $13
      FROM chat_turns WHERE conversation_id = $2
    RETURNING {_TURN_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_TURNS: Final = f"""
    SELECT {_TURN_COLUMNS} FROM (
        SELECT {_TURN_COLUMNS} FROM chat_turns WHERE conversation_id = $1
         ORDER BY seq DESC LIMIT $2
    ) latest ORDER BY seq
"""  # noqa: S608 - constant columns, bound values


@dataclass(frozen=True, slots=True)
class ReplyRow:
    org_id: str
    reply_id: str
    conversation_id: str
    message_id: str
    text_digest: str
    status: ReplyStatus
    pending: dict[str, Any] | None
    error: dict[str, Any] | None
    event_seq: int
    rounds: int
    round_seq: int
    """The reply's event seq when its latest round began (its text streams after it)."""
    cancel_requested: datetime | None
    actor: Actor
    created_at: datetime
    updated_at: datetime

    @property
    def approval(self) -> PendingApprovalV1 | None:
        """The tool call the reply waits on (while it waits)."""
        found = (self.pending or {}).get("approval")
        return PendingApprovalV1.model_validate(found) if found else None

    @property
    def approved(self) -> dict[str, bool]:
        """Decisions already given, by tool call id (True: approved)."""
        decisions = (self.pending or {}).get("decisions") or {}
        return {str(k): bool(v) for k, v in decisions.items()}

    def to_contract(self) -> ChatReplyV1:
        return ChatReplyV1(
            reply_id=self.reply_id,
            conversation_id=self.conversation_id,
            message_id=self.message_id,
            status=self.status,
            pending=self.approval if self.status is ReplyStatus.AWAITING_APPROVAL else None,
            error=ErrorV1.model_validate(self.error) if self.error else None,
            event_seq=self.event_seq,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _reply(row: Any) -> ReplyRow:
    return ReplyRow(
        org_id=row["org_id"],
        reply_id=row["reply_id"],
        conversation_id=row["conversation_id"],
        message_id=row["message_id"],
        text_digest=row["text_digest"],
        status=ReplyStatus(row["status"]),
        pending=_json(row["pending"]),
        error=_json(row["error"]),
        event_seq=row["event_seq"],
        rounds=row["rounds"],
        round_seq=row["round_seq"],
        cancel_requested=row["cancel_requested"],
        actor=Actor.model_validate(_json(row["actor"])),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _turn(row: Any) -> ChatTurnV1:
    calls = _json(row["tool_calls"]) or []
    actor = _json(row["actor"])
    return ChatTurnV1(
        seq=row["seq"],
        reply_id=row["reply_id"],
        message_id=row["message_id"],
        role=ChatRole(row["role"]),
        text=row["text"],
        tool_calls=[ToolCallV1.model_validate(c) for c in calls],
        tool_call_id=row["tool_call_id"],
        tool_name=row["tool_name"],
        result=_json(row["result"]),
        status=TurnStatus(row["status"]),
        actor=Actor.model_validate(actor) if actor else None,
        created_at=row["created_at"],
    )


async def insert_reply(
    conn: Conn,
    *,
    org_id: str,
    reply_id: str,
    conversation_id: str,
    message_id: str,
    text_digest: str,
    actor: Actor,
    now: datetime,
) -> ReplyRow | None:
    """The new reply, or None if one exists already for this message."""
    row = await conn.fetchrow(
        _INSERT_REPLY,
        org_id,
        reply_id,
        conversation_id,
        message_id,
        text_digest,
        actor.model_dump(mode="json"),
        now,
    )
    return _reply(row) if row is not None else None


async def get_reply(conn: Conn, reply_id: str, *, lock: bool = False) -> ReplyRow | None:
    row = await conn.fetchrow(_LOCK_REPLY if lock else _GET_REPLY, reply_id)
    return _reply(row) if row is not None else None


async def other_active(conn: Conn, conversation_id: str, reply_id: str) -> list[ReplyRow]:
    return [_reply(r) for r in await conn.fetch(_ACTIVE, conversation_id, reply_id)]


async def latest_active(conn: Conn, conversation_id: str) -> ReplyRow | None:
    row = await conn.fetchrow(_LATEST_ACTIVE, conversation_id)
    return _reply(row) if row is not None else None


async def replies(conn: Conn, conversation_id: str, limit: int) -> list[ReplyRow]:
    return [_reply(r) for r in await conn.fetch(_REPLIES, conversation_id, limit)]


async def set_state(
    conn: Conn,
    reply_id: str,
    status: ReplyStatus,
    *,
    event_seq: int,
    now: datetime,
    pending: dict[str, Any] | None = None,
    error: ErrorV1 | None = None,
) -> ReplyRow:
    row = await conn.fetchrow(
        _SET_STATE,
        reply_id,
        status.value,
        pending,
        error.model_dump(mode="json") if error is not None else None,
        event_seq,
        now,
    )
    return _reply(row)


async def next_round(conn: Conn, reply_id: str, *, event_seq: int, now: datetime) -> int:
    rounds: int = await conn.fetchval(_NEXT_ROUND, reply_id, event_seq, now)
    return rounds


async def beat(conn: Conn, reply_id: str, *, event_seq: int, now: datetime) -> bool:
    """Record progress; whether the user asked to cancel the reply."""
    requested = await conn.fetchval(_BEAT, reply_id, event_seq, now)
    return requested is not None


async def request_cancel(conn: Conn, reply_id: str, now: datetime) -> ReplyRow | None:
    row = await conn.fetchrow(_REQUEST_CANCEL, reply_id, now)
    return _reply(row) if row is not None else None


async def append_turn(
    conn: Conn,
    *,
    org_id: str,
    conversation_id: str,
    reply_id: str,
    role: ChatRole,
    now: datetime,
    text: str = "",
    message_id: str | None = None,
    tool_calls: list[ToolCallV1] | None = None,
    tool_call_id: str | None = None,
    tool_name: str | None = None,
    result: Any = None,
    status: TurnStatus = TurnStatus.COMPLETE,
    actor: Actor | None = None,
) -> ChatTurnV1:
    row = await conn.fetchrow(
        _APPEND_TURN,
        org_id,
        conversation_id,
        reply_id,
        message_id,
        role.value,
        text,
        [c.model_dump(mode="json") for c in tool_calls] if tool_calls else None,
        tool_call_id,
        tool_name,
        result,
        status.value,
        actor.model_dump(mode="json") if actor is not None else None,
        now,
    )
    return _turn(row)


async def turns(conn: Conn, conversation_id: str, limit: int) -> list[ChatTurnV1]:
    return [_turn(r) for r in await conn.fetch(_TURNS, conversation_id, limit)]
