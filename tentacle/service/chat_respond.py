"""The user answers the approval a reply waits on; the reply carries on."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.chat import ReplyStatus, RespondChatApprovalV1
from contracts.tentacle.chat_errors import ChatErrorCode
from shared.errors import CodedPermanentError
from tentacle.adapters import chat_store as store
from tentacle.service.chat_deps import ChatDeps, require_org
from tentacle.service.chat_reply import run_reply


async def respond_approval(
    deps: ChatDeps, answer: RespondChatApprovalV1, meta: Meta, *, last_attempt: bool
) -> None:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        reply = await store.get_reply(tx.conn, answer.reply_id, lock=True)
        if reply is None or reply.conversation_id != answer.conversation_id:
            raise CodedPermanentError(
                ChatErrorCode.REPLY_NOT_FOUND,
                f"no reply {answer.reply_id} in conversation {answer.conversation_id}",
            )
        decided = reply.approved.get(answer.approval_id)
        if decided is not None:
            if decided != answer.approved:
                raise CodedPermanentError(
                    ChatErrorCode.APPROVAL_NOT_PENDING,
                    f"approval {answer.approval_id} was answered already the other way",
                )
            # The same answer again (a redelivery): carry on below if the reply still runs.
        else:
            pending = reply.approval
            if (
                reply.status is not ReplyStatus.AWAITING_APPROVAL
                or pending is None
                or pending.approval_id != answer.approval_id
            ):
                raise CodedPermanentError(
                    ChatErrorCode.APPROVAL_NOT_PENDING,
                    f"reply {answer.reply_id} waits on no approval {answer.approval_id}",
                )
            state = dict(reply.pending or {})
            state.pop("approval", None)
            state["decisions"] = {**reply.approved, answer.approval_id: answer.approved}
            if answer.feedback:
                state["feedback"] = {
                    **(state.get("feedback") or {}),
                    answer.approval_id: answer.feedback,
                }
            await store.set_state(
                tx.conn,
                reply.reply_id,
                ReplyStatus.RUNNING,
                event_seq=reply.event_seq,
                now=deps.clock(),
                pending=state,
            )
    await run_reply(deps, org_id, answer.reply_id, last_attempt=last_attempt)
