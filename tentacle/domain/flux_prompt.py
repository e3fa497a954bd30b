"""Flux's prompt, assembled from blocks, and the conversation as the model reads it back.

The first system message (role, rules, tool catalogue) is the same for every call of every
conversation, so providers' prompt caching keeps it; the history follows, unchanged between
turns; the volatile context (date, workspace state, this conversation's tasks, memories) comes
last, just before the model answers, where changing it does not invalidate the cached prefix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from contracts.tentacle.chat import ChatRole, ChatTurnV1, ToolCallV1, TurnStatus
from tentacle.domain.flux_tools import catalogue

ROLE: Final = """You are **Flux**, the conversational agent of the fluxos platform. You live in \
the user's inbox. When greeted or asked who you are, introduce yourself as Flux.

You take action rather than describing it: create background tasks that plan and run on their \
own and report into this conversation, query the workspace (tasks, calendar events, contacts, \
notes, any object type), search the web when a provider is configured, send notifications \
(the user confirms first), answer task checkpoints, manage integrations, create agents, use \
the organisation's memory and create triggered tasks that run whenever an event arrives.

Rules:
1. Tasks report into this conversation; several can run at once; keep chatting meanwhile.
2. Never fabricate task results, search results or data: use your tools to get them; if a tool \
says it is not configured or not available, say so plainly.
3. One-time work is create_task; recurring event-driven work ("whenever", "every time", "when \
a new ...") is create_triggered_task, after listing the source's integrations: none, tell the \
user to connect one; one, use it; several, ask which.
4. Confirm before destructive or costly actions; sending is approved by the user.
5. Be direct and concise (under 300 words unless asked), use markdown, lead with results.
6. If a tool fails, explain simply and suggest an alternative; never show raw internals."""


@dataclass(frozen=True, slots=True)
class TurnContext:
    """The volatile blocks of one model call."""

    now: datetime
    """In the org's time zone: what 'today' and 'tomorrow' mean to the person asking."""
    workspace: str
    tasks: str
    memories: str


def static_prefix() -> str:
    return f"{ROLE}\n\n## Tools\n{catalogue()}"


def volatile_block(context: TurnContext) -> str:
    return (
        f"## Now\n{context.now.isoformat(timespec='minutes')} ({context.now.tzname()}, the "
        "organisation's time zone), "
        f"{context.now.strftime('%A')}\n\n"
        f"## Current workspace state\n{context.workspace}\n\n"
        f"## Tasks in this conversation\n{context.tasks}\n\n"
        f"## Relevant memories\n{context.memories}"
    )


def _tool_content(turn: ChatTurnV1) -> str:
    return json.dumps(turn.result, default=str, ensure_ascii=False)[:8000]


def history(turns: Sequence[ChatTurnV1]) -> list[dict[str, Any]]:
    """The turns as chat messages, always well formed for the provider.

    Every tool call is followed by a result before the next message: a call left without one
    (the reply was cancelled, or it waits on an approval while the user moved on) is answered
    here with what happened, so an interrupted reply never breaks the next turn.
    """
    messages: list[dict[str, Any]] = []
    open_calls: dict[str, str] = {}

    def close_open() -> None:
        for call_id, name in open_calls.items():
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "name": name,
                    "content": json.dumps(
                        {"ok": False, "error": "not run: the reply ended before this call"}
                    ),
                }
            )
        open_calls.clear()

    for turn in turns:
        if turn.role is ChatRole.TOOL:
            if turn.tool_call_id in open_calls:
                open_calls.pop(turn.tool_call_id)
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": turn.tool_call_id,
                        "name": turn.tool_name or "",
                        "content": _tool_content(turn),
                    }
                )
            continue
        close_open()
        if turn.role is ChatRole.USER:
            messages.append({"role": "user", "content": turn.text})
            continue
        text = turn.text
        if turn.status is TurnStatus.CANCELLED:
            text = f"{text}\n[cancelled by the user]" if text else "[cancelled by the user]"
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if turn.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.call_id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                }
                for c in turn.tool_calls
            ]
            open_calls.update({c.call_id: c.name for c in turn.tool_calls})
        messages.append(message)
    close_open()
    return messages


def unanswered(turns: Sequence[ChatTurnV1], reply_id: str) -> list[ToolCallV1]:
    """Tool calls of the reply's last assistant turn that have no result yet, in order."""
    last = next(
        (
            i
            for i in range(len(turns) - 1, -1, -1)
            if turns[i].role is ChatRole.ASSISTANT and turns[i].reply_id == reply_id
        ),
        None,
    )
    if last is None or turns[last].status is not TurnStatus.COMPLETE:
        return []
    answered = {t.tool_call_id for t in turns[last + 1 :] if t.role is ChatRole.TOOL}
    return [c for c in turns[last].tool_calls if c.call_id not in answered]


def messages_for(turns: Sequence[ChatTurnV1], context: TurnContext) -> list[dict[str, Any]]:
    """System prefix, history, then the volatile context."""
    return [
        {"role": "system", "content": static_prefix()},
        *history(turns),
        {"role": "system", "content": volatile_block(context)},
    ]
