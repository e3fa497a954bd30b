"""The user stops a reply. A streaming reply stops within a beat, wherever it runs (its text so
far is kept, marked cancelled); one waiting for an approval is closed at once."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.chat import (
    CancelChatReplyV1,
    CancelledDetailV1,
    ChatReplyV1,
    ChatRole,
    ReplyStatus,
    TurnStatus,
)
from contracts.tentacle.chat_errors import ChatErrorCode
from shared.errors import CodedPermanentError
from tentacle.adapters import chat_store as store
from tentacle.service.chat_deps import ChatDeps, Emitter, require_org
from tentacle.service.chat_tools import failure


async def cancel_reply(deps: ChatDeps, request: CancelChatReplyV1, meta: Meta) -> ChatReplyV1:
    org_id = require_org(meta)
    now = deps.clock()
    async with deps.db.transaction(org_id=org_id) as tx:
        if request.reply_id is not None:
            reply = await store.get_reply(tx.conn, request.reply_id, lock=True)
        else:
            reply = await store.latest_active(tx.conn, request.conversation_id)
        if reply is None or reply.conversation_id != request.conversation_id:
            raise CodedPermanentError(
                ChatErrorCode.REPLY_NOT_FOUND,
                f"no reply to cancel in conversation {request.conversation_id}",
            )
        if reply.status is ReplyStatus.RUNNING:
            marked = await store.request_cancel(tx.conn, reply.reply_id, now)
            assert marked is not None
            reply = marked
        elif reply.status is ReplyStatus.AWAITING_APPROVAL:
            approval = reply.approval
            emit = Emitter(
                deps,
                org_id=org_id,
                conversation_id=reply.conversation_id,
                reply_id=reply.reply_id,
                message_id=reply.message_id,
                seq=reply.event_seq,
            )
            if approval is not None:
                await store.append_turn(
                    tx.conn,
                    org_id=org_id,
                    conversation_id=reply.conversation_id,
                    reply_id=reply.reply_id,
                    role=ChatRole.TOOL,
                    now=now,
                    tool_call_id=approval.approval_id,
                    tool_name=approval.tool,
                    result=failure(
                        ChatErrorCode.TOOL_DECLINED,
                        "not approved: the user cancelled the reply; nothing was done",
                    ).for_model(),
                    status=TurnStatus.FAILED,
                )
            emit.with_write(tx, CancelledDetailV1(partial_text=""))
            reply = await store.set_state(
                tx.conn, reply.reply_id, ReplyStatus.CANCELLED, event_seq=emit.seq, now=now
            )
    local = deps.cancels.get(reply.reply_id)
    if local is not None:
        local.set()
    return reply.to_contract()
