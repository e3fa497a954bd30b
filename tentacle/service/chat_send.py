"""The user's message to Flux: record it (once, whatever the redeliveries) and reply.

One reply runs per conversation at a time. A message that finds another reply streaming waits
for it (a transient refusal: the consumer delivers it again later), unless that reply's replica
has gone silent, in which case the old reply is closed as failed. A message that finds a reply
waiting for an approval declines that approval: the user moved on.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from contracts.envelope import ErrorV1, Meta
from contracts.tentacle.chat import (
    CancelledDetailV1,
    ChatRole,
    ErrorDetailV1,
    ReplyStatus,
    SendChatMessageV1,
    TurnStatus,
    chat_reply_id,
)
from contracts.tentacle.chat_errors import ChatErrorCode
from shared.errors import CodedPermanentError, CodedTransientError
from tentacle.adapters import chat_store as store
from tentacle.adapters.chat_store import ReplyRow
from tentacle.adapters.pg import Tx
from tentacle.service.chat_deps import ChatDeps, Emitter, require_org
from tentacle.service.chat_reply import run_reply
from tentacle.service.chat_tools import failure


def digest(conversation_id: str, text: str) -> str:
    return hashlib.sha256(f"{conversation_id}\x00{text}".encode()).hexdigest()


async def send_message(
    deps: ChatDeps, message: SendChatMessageV1, meta: Meta, *, last_attempt: bool
) -> None:
    org_id = require_org(meta)
    reply_id = chat_reply_id(org_id, message.message_id)
    wanted = digest(message.conversation_id, message.text)
    async with deps.db.transaction(org_id=org_id) as tx:
        # Serialise the messages of one conversation: each sees the replies the others made.
        await tx.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"chat:{message.conversation_id}"
        )
        existing = await store.get_reply(tx.conn, reply_id)
        if existing is not None:
            if existing.text_digest != wanted:
                raise CodedPermanentError(
                    ChatErrorCode.MESSAGE_CONFLICT,
                    f"message {message.message_id} was sent before with other text or in "
                    "another conversation",
                )
        else:
            for other in await store.other_active(tx.conn, message.conversation_id, reply_id):
                await _make_way(deps, tx, other)
            now = deps.clock()
            await store.insert_reply(
                tx.conn,
                org_id=org_id,
                reply_id=reply_id,
                conversation_id=message.conversation_id,
                message_id=message.message_id,
                text_digest=wanted,
                actor=meta.actor,
                now=now,
            )
            await store.append_turn(
                tx.conn,
                org_id=org_id,
                conversation_id=message.conversation_id,
                reply_id=reply_id,
                role=ChatRole.USER,
                now=now,
                text=message.text,
                message_id=message.message_id,
                actor=meta.actor,
            )
    # A redelivery finds its reply running (its replica died) and carries it on.
    await run_reply(deps, org_id, reply_id, last_attempt=last_attempt)


async def _make_way(deps: ChatDeps, tx: Tx, other: ReplyRow) -> None:
    emit = Emitter(
        deps,
        org_id=other.org_id,
        conversation_id=other.conversation_id,
        reply_id=other.reply_id,
        message_id=other.message_id,
        seq=other.event_seq,
    )
    now = deps.clock()
    if other.status is ReplyStatus.AWAITING_APPROVAL:
        approval = other.approval
        if approval is not None:
            declined = failure(
                ChatErrorCode.TOOL_DECLINED,
                "not approved: the user moved on to another message; nothing was done",
            )
            await store.append_turn(
                tx.conn,
                org_id=other.org_id,
                conversation_id=other.conversation_id,
                reply_id=other.reply_id,
                role=ChatRole.TOOL,
                now=now,
                tool_call_id=approval.approval_id,
                tool_name=approval.tool,
                result=declined.for_model(),
                status=TurnStatus.FAILED,
            )
        emit.with_write(tx, CancelledDetailV1(partial_text=""))
        await store.set_state(
            tx.conn, other.reply_id, ReplyStatus.CANCELLED, event_seq=emit.seq, now=now
        )
        return
    if now - other.updated_at < timedelta(seconds=deps.stale_seconds):
        raise CodedTransientError(
            ChatErrorCode.CONVERSATION_BUSY,
            f"reply {other.reply_id} is still streaming in conversation {other.conversation_id}",
        )
    error = ErrorV1(
        code=ChatErrorCode.REPLY_LOST,
        message="the reply stopped (its worker went away) and was closed",
        retryable=False,
    )
    emit.with_write(tx, ErrorDetailV1(error=error))
    await store.set_state(
        tx.conn, other.reply_id, ReplyStatus.FAILED, event_seq=emit.seq, now=now, error=error
    )
