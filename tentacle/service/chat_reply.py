"""Run one of Flux's replies: the LLM loop.

Each round answers the tool calls still open (pausing at one that needs the user's approval),
then asks the model, streaming its text token by token, and records what it said. A round
whose answer calls no tool ends the reply. Everything the loop needs is in the database (the
turns, the reply's round, its approvals), so any replica can run or resume any reply: after a
crash the redelivered command starts the reply's current round again, with the same
idempotency keys for what its tools do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from contracts.envelope import ErrorV1
from contracts.tentacle.chat import (
    ApprovalNeededDetailV1,
    CancelledDetailV1,
    ChatRole,
    DeltaDetailV1,
    DoneDetailV1,
    ErrorDetailV1,
    PendingApprovalV1,
    ReplyStatus,
    StartedDetailV1,
    ToolCallDetailV1,
    ToolCallV1,
    ToolResultDetailV1,
    TurnStatus,
)
from contracts.tentacle.chat_errors import ChatErrorCode
from contracts.tentacle.checkpoints import ListCheckpointsV1
from contracts.tentacle.memory import MEMORY_CONTEXT, BuildMemoryContextV1
from contracts.tentacle.models import ListTasksV1
from contracts.tentacle.subjects import CHECKPOINT_LIST, TASK_LIST
from shared.errors import FluxosError
from shared.llm import BudgetScope, ChatRequest, Completion, Finished, StreamEvent, TextDelta
from shared.llm.errors import LLMUnavailable
from shared.logging import get_logger
from tentacle.adapters import chat_store as store
from tentacle.adapters import schedule_store
from tentacle.adapters.chat_store import ReplyRow
from tentacle.adapters.chat_stream import last_streamed_seq
from tentacle.domain.flux_prompt import TurnContext, messages_for, unanswered
from tentacle.domain.flux_tools import BY_NAME, TOOLS
from tentacle.service.chat_deps import ChatDeps, Emitter
from tentacle.service.chat_tools import ACTIVE, ToolContext, ToolOutcome, failure, task_line

log = get_logger(__name__)

TASK_TYPE = "chat"
"""Chooses Flux's model (FLUXOS_LLM_MODELS) and, offline, its responder."""


@dataclass
class _Streamed:
    completion: Completion | None
    text: str
    cancelled: bool


async def run_reply(deps: ChatDeps, org_id: str, reply_id: str, *, last_attempt: bool) -> None:
    """Carry the reply on from where its state says it is, to its next stop."""
    async with deps.db.transaction(org_id=org_id) as tx:
        reply = await store.get_reply(tx.conn, reply_id)
    if reply is None or reply.status is not ReplyStatus.RUNNING:
        return
    emit = Emitter(
        deps,
        org_id=org_id,
        conversation_id=reply.conversation_id,
        reply_id=reply_id,
        message_id=reply.message_id,
        seq=max(
            reply.event_seq,
            await last_streamed_seq(deps.bus, org_id, reply.conversation_id, reply_id),
        ),
    )
    cancel = deps.cancels.setdefault(reply_id, asyncio.Event())
    try:
        async with deps.db.transaction(org_id=org_id) as tx:
            turns = await store.turns(tx.conn, reply.conversation_id, deps.history_turns)
        answers = sum(1 for t in turns if t.role is ChatRole.ASSISTANT and t.reply_id == reply_id)
        model = deps.gateway.model_for(TASK_TYPE)
        await emit.now(
            StartedDetailV1(
                model=model,
                offline=deps.gateway.is_offline(model),
                resumed=reply.event_seq > 0,
                # A round began (its counter moved) but its answer was never recorded.
                discard_after_seq=reply.round_seq if answers < reply.rounds else None,
            )
        )
        await _loop(deps, emit, reply, cancel)
    except LLMUnavailable as exc:
        if not last_attempt:
            raise  # the consumer tries the round again later
        await _fail(deps, emit, exc.to_error())
    except FluxosError as exc:
        if exc.retryable and not last_attempt:
            raise
        await _fail(deps, emit, exc.to_error())
    finally:
        deps.cancels.pop(reply_id, None)


async def _loop(deps: ChatDeps, emit: Emitter, reply: ReplyRow, cancel: asyncio.Event) -> None:
    spent = Decimal(0)
    while True:
        async with deps.db.transaction(org_id=emit.org_id) as tx:
            current = await store.get_reply(tx.conn, emit.reply_id)
            turns = await store.turns(tx.conn, emit.conversation_id, deps.history_turns)
        if current is None or current.status is not ReplyStatus.RUNNING:
            return
        if current.cancel_requested is not None or cancel.is_set():
            await _finish_cancelled(deps, emit, "")
            return
        if not await _answer_open_calls(deps, emit, current, unanswered(turns, emit.reply_id)):
            return  # waiting for the user's approval
        if current.rounds >= deps.max_rounds:
            await _fail(
                deps,
                emit,
                ErrorV1(
                    code=ChatErrorCode.TOO_MANY_ROUNDS,
                    message=f"the model called tools {deps.max_rounds} times without answering",
                ),
            )
            return
        async with deps.db.transaction(org_id=emit.org_id) as tx:
            await store.next_round(tx.conn, emit.reply_id, event_seq=emit.seq, now=deps.clock())
            turns = await store.turns(tx.conn, emit.conversation_id, deps.history_turns)
        question = next((t.text for t in reversed(turns) if t.role is ChatRole.USER), "")
        context = await _context(deps, emit, question)
        request = ChatRequest(
            task_type=TASK_TYPE,
            messages=messages_for(turns, context),
            tools=[t.spec() for t in TOOLS],
            temperature=0.2,
        )
        streamed = await _stream(deps, emit, request, cancel)
        if streamed.cancelled:
            await _finish_cancelled(deps, emit, streamed.text)
            return
        assert streamed.completion is not None
        spent += streamed.completion.cost_usd
        if await _record_answer(deps, emit, streamed.completion, spent):
            return


async def _answer_open_calls(
    deps: ChatDeps, emit: Emitter, reply: ReplyRow, calls: list[ToolCallV1]
) -> bool:
    """Run the open calls in order; False if one waits for the user's approval."""
    if not calls:
        return True
    async with deps.db.transaction(org_id=emit.org_id) as tx:
        turns = await store.turns(tx.conn, emit.conversation_id, deps.history_turns)
    last = next(
        t for t in reversed(turns) if t.role is ChatRole.ASSISTANT and t.reply_id == emit.reply_id
    )
    positions = {c.call_id: i for i, c in enumerate(last.tool_calls)}
    decisions = reply.approved
    feedback = (reply.pending or {}).get("feedback") or {}
    for call in calls:
        tool = BY_NAME.get(call.name)
        context = ToolContext(
            org_id=emit.org_id,
            conversation_id=emit.conversation_id,
            reply_id=emit.reply_id,
            key=f"flux-{emit.reply_id}-{reply.rounds}-{positions[call.call_id]}",
        )
        outcome: ToolOutcome | None = deps.tools.check(
            call.name, call.arguments, call.raw_arguments or ""
        )
        if outcome is None and tool is not None and tool.needs_approval(call.arguments):
            decision = decisions.get(call.call_id)
            if decision is None:
                await _wait_for_approval(deps, emit, reply, call, tool.describe(call.arguments))
                return False
            if not decision:
                why = feedback.get(call.call_id) or "no reason given"
                outcome = failure(
                    ChatErrorCode.TOOL_DECLINED, f"the user declined; nothing was done ({why})"
                )
        if outcome is None:
            outcome = await deps.tools.run(context, call.name, dict(call.arguments))
        async with deps.db.transaction(org_id=emit.org_id) as tx:
            await store.append_turn(
                tx.conn,
                org_id=emit.org_id,
                conversation_id=emit.conversation_id,
                reply_id=emit.reply_id,
                role=ChatRole.TOOL,
                now=deps.clock(),
                tool_call_id=call.call_id,
                tool_name=call.name,
                result=outcome.for_model(),
                status=TurnStatus.COMPLETE if outcome.ok else TurnStatus.FAILED,
            )
            emit.with_write(
                tx,
                ToolResultDetailV1(
                    call_id=call.call_id,
                    name=call.name,
                    ok=outcome.ok,
                    result=outcome.result,
                    error=outcome.error,
                ),
            )
            await store.beat(tx.conn, emit.reply_id, event_seq=emit.seq, now=deps.clock())
    return True


async def _wait_for_approval(
    deps: ChatDeps, emit: Emitter, reply: ReplyRow, call: ToolCallV1, summary: str
) -> None:
    approval = PendingApprovalV1(
        approval_id=call.call_id, tool=call.name, arguments=call.arguments, summary=summary
    )
    async with deps.db.transaction(org_id=emit.org_id) as tx:
        emit.with_write(tx, ApprovalNeededDetailV1(approval=approval))
        await store.set_state(
            tx.conn,
            emit.reply_id,
            ReplyStatus.AWAITING_APPROVAL,
            event_seq=emit.seq,
            now=deps.clock(),
            pending={**(reply.pending or {}), "approval": approval.model_dump(mode="json")},
        )


async def _stream(
    deps: ChatDeps, emit: Emitter, request: ChatRequest, cancel: asyncio.Event
) -> _Streamed:
    """Stream one model call to the events; stop at once if the user cancels (here, or on
    another replica: the beat reads the reply's cancel mark)."""
    parts: list[str] = []
    done: list[Completion] = []

    async def consume() -> None:
        stream = deps.gateway.stream(request, scope=BudgetScope(org_id=emit.org_id, agent="flux"))
        try:
            async for item in stream:
                if isinstance(item, TextDelta):
                    parts.append(item.text)
                    await emit.now(DeltaDetailV1(text=item.text))
                elif isinstance(item, Finished):
                    done.append(item.completion)
        finally:
            # Closing settles the budget for what was generated (the gateway's own finally).
            await cast(AsyncGenerator[StreamEvent, None], stream).aclose()

    task = asyncio.create_task(consume())
    waiter = asyncio.create_task(cancel.wait())
    try:
        while not task.done():
            await asyncio.wait(
                {task, waiter}, timeout=deps.beat_seconds, return_when="FIRST_COMPLETED"
            )
            if task.done():
                break
            if not cancel.is_set():
                async with deps.db.statement(org_id=emit.org_id) as tx:
                    if await store.beat(
                        tx.conn, emit.reply_id, event_seq=emit.seq, now=deps.clock()
                    ):
                        cancel.set()
            if cancel.is_set():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return _Streamed(None, "".join(parts), cancelled=True)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    task.result()  # the model call's own failure, if any
    return _Streamed(done[0] if done else None, "".join(parts), cancelled=False)


async def _record_answer(
    deps: ChatDeps, emit: Emitter, completion: Completion, spent: Decimal
) -> bool:
    """Keep what the model said; True if that ends the reply."""
    calls = [
        ToolCallV1(
            call_id=c.id,
            name=c.name,
            arguments=c.arguments,
            raw_arguments=None if _is_object(c.raw_arguments) else c.raw_arguments,
        )
        for c in completion.tool_calls
    ]
    async with deps.db.transaction(org_id=emit.org_id) as tx:
        await store.append_turn(
            tx.conn,
            org_id=emit.org_id,
            conversation_id=emit.conversation_id,
            reply_id=emit.reply_id,
            role=ChatRole.ASSISTANT,
            now=deps.clock(),
            text=completion.text,
            tool_calls=calls,
        )
        for call in calls:
            emit.with_write(tx, ToolCallDetailV1(call=call, raw_arguments=call.raw_arguments or ""))
        if calls:
            await store.beat(tx.conn, emit.reply_id, event_seq=emit.seq, now=deps.clock())
            return False
        emit.with_write(tx, DoneDetailV1(text=completion.text, cost_usd=str(spent)))
        await store.set_state(
            tx.conn, emit.reply_id, ReplyStatus.COMPLETED, event_seq=emit.seq, now=deps.clock()
        )
    return True


def _is_object(raw: str) -> bool:
    if not raw.strip():
        return True
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


async def _finish_cancelled(deps: ChatDeps, emit: Emitter, partial: str) -> None:
    async with deps.db.transaction(org_id=emit.org_id) as tx:
        reply = await store.get_reply(tx.conn, emit.reply_id, lock=True)
        if reply is None or reply.status is not ReplyStatus.RUNNING:
            return
        await store.append_turn(
            tx.conn,
            org_id=emit.org_id,
            conversation_id=emit.conversation_id,
            reply_id=emit.reply_id,
            role=ChatRole.ASSISTANT,
            now=deps.clock(),
            text=partial,
            status=TurnStatus.CANCELLED,
        )
        emit.with_write(tx, CancelledDetailV1(partial_text=partial))
        await store.set_state(
            tx.conn, emit.reply_id, ReplyStatus.CANCELLED, event_seq=emit.seq, now=deps.clock()
        )


async def _fail(deps: ChatDeps, emit: Emitter, error: ErrorV1) -> None:
    log.warning("chat.reply_failed", reply_id=emit.reply_id, code=error.code)
    async with deps.db.transaction(org_id=emit.org_id) as tx:
        reply = await store.get_reply(tx.conn, emit.reply_id, lock=True)
        if reply is None or reply.status is not ReplyStatus.RUNNING:
            return
        emit.with_write(tx, ErrorDetailV1(error=error))
        await store.set_state(
            tx.conn,
            emit.reply_id,
            ReplyStatus.FAILED,
            event_seq=emit.seq,
            now=deps.clock(),
            error=error,
        )


async def _context(deps: ChatDeps, emit: Emitter, question: str) -> TurnContext:
    """The volatile blocks; a part that cannot be read now says so instead of failing the turn."""
    workspace = tasks = "(unavailable right now)"
    ask: dict[str, Any] = {"org_id": emit.org_id, "timeout": 10.0}
    with contextlib.suppress(FluxosError):
        active = await deps.bus.request(TASK_LIST, ListTasksV1(statuses=ACTIVE, limit=50), **ask)
        waiting = await deps.bus.request(CHECKPOINT_LIST, ListCheckpointsV1(limit=50), **ask)
        workspace = (
            f"{len(active.tasks)} active task(s) in the organisation; "
            f"{len(waiting.checkpoints)} checkpoint(s) waiting for approval."
        )
    with contextlib.suppress(FluxosError):
        mine = await deps.bus.request(
            TASK_LIST, ListTasksV1(conversation_id=emit.conversation_id, limit=20), **ask
        )
        lines = [
            "- `{task_id}` {status} ({steps_done}/{steps_total} steps): {goal}".format(
                **task_line(t)
            )
            + (f" \u2014 result: {t.summary[:300]}" if t.summary else "")
            + (f" \u2014 error: {t.error.message[:200]}" if t.error else "")
            for t in mine.tasks
        ]
        tasks = "\n".join(lines) or "(none yet)"
    memories = "(unavailable right now)"
    with contextlib.suppress(FluxosError):
        # Short: a memory service that does not answer must not hold up the reply.
        found = await deps.bus.request(
            MEMORY_CONTEXT,
            BuildMemoryContextV1(query=question[:2000] or None, token_budget=600),
            org_id=emit.org_id,
            timeout=3.0,
        )
        memories = found.text or "(nothing relevant stored)"
    return TurnContext(
        now=await _org_now(deps, emit.org_id), workspace=workspace, tasks=tasks, memories=memories
    )


async def _org_now(deps: ChatDeps, org_id: str) -> datetime:
    """Now in the org's time zone (inkpass's settings, kept by the org-zones consumer)."""
    async with deps.db.statement(org_id=org_id) as tx:
        zone = await schedule_store.org_zone(tx.conn, org_id)
    return deps.clock().astimezone(ZoneInfo(zone))
