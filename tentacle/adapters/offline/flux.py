"""Flux with the built-in offline model: deterministic answers by keyword, through the same
tools a real model would call.

It handles the requests the platform's documentation uses as examples ("Summarize today's
news", "Send a joke whenever someone uses /ping on Discord", "Notify me when a new issue is
created on GitHub", "What's on my calendar tomorrow?") and a few more (status, capabilities,
email, web search, memory, agents). It reads the conversation as any model does: the last user
message chooses the intent, and the tool results after it choose the next step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from shared.llm import OfflineReply, OfflineRequest, OfflineResponders

LABEL: Final = "[offline model]"
_PROVIDERS: Final = ("discord", "slack", "github", "stripe", "webhook")
_RECURRING: Final = re.compile(
    r"\b(whenever|every ?time|each time)\b|\bnotify me (when|if)\b|\bwhen (a|an) new\b", re.I
)
_CALENDAR: Final = re.compile(r"\bcalendar\b|\bmeetings?\b|\bschedule\b|\bevents?\b", re.I)
_CONTACTS: Final = re.compile(r"\bcontacts?\b|\baddress book\b", re.I)
_GREETING: Final = re.compile(r"^\s*(hi|hello|hey)\b|\bwho are you\b", re.I)
_STATUS: Final = re.compile(r"\bstatus\b|\bprogress\b|\bhow(?:'s| is) (?:my|the) task", re.I)
_CAPABILITIES: Final = re.compile(r"what can you do|capabilit", re.I)
_WEB: Final = re.compile(r"\bsearch the web\b|\blook up\b|\bweb search\b|\bgoogle\b", re.I)
_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_SEND: Final = re.compile(r"\b(e-?mail|send|notify|write to)\b", re.I)
_REMEMBER: Final = re.compile(r"^\s*remember\b", re.I)
_RECALL: Final = re.compile(r"what do you (remember|know about)|\brecall\b", re.I)
_RECALL_ABOUT: Final = re.compile(r"^.*?\b(remember|know|recall)\b(\s+about)?", re.I)
_AGENT: Final = re.compile(r"\b(create|make|build) (an? |new )*agent\b", re.I)
_APPROVE: Final = re.compile(r"^\s*(approve|reject)\b", re.I)
_UUID: Final = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_NOW: Final = re.compile(r"## Now\n(\d{4}-\d{2}-\d{2})")
_COMMAND: Final = re.compile(r"(?:^|\s)/([a-z0-9_-]{1,32})\b", re.I)
_CHANNEL: Final = re.compile(r"#([a-z0-9_-]{1,80})", re.I)


@dataclass(frozen=True)
class _Turn:
    user: str
    results: list[tuple[str, dict[str, Any], dict[str, Any]]]
    """(tool, arguments, answer) of the calls made since the user spoke, in order."""
    today: date


def _turn(request: OfflineRequest) -> _Turn:
    messages = request.messages
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    user = str(messages[last_user].get("content") or "") if last_user >= 0 else ""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    results: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for message in messages[last_user + 1 :]:
        for call in message.get("tool_calls") or []:
            function = call.get("function", {})
            try:
                arguments = json.loads(function.get("arguments") or "{}")
            except ValueError:
                arguments = {}
            calls[call.get("id", "")] = (function.get("name", ""), arguments)
        if message.get("role") == "tool":
            name, arguments = calls.get(message.get("tool_call_id", ""), ("", {}))
            try:
                answer = json.loads(str(message.get("content") or "{}"))
            except ValueError:
                answer = {}
            results.append((name, arguments, answer if isinstance(answer, dict) else {}))
    today = date.today()
    for message in messages:
        found = (
            _NOW.search(str(message.get("content") or "")) if message["role"] == "system" else None
        )
        if found:
            today = date.fromisoformat(found.group(1))
    return _Turn(user=user, results=results, today=today)


def _say(text: str) -> OfflineReply:
    return OfflineReply(text=text)


def _call(name: str, **arguments: Any) -> OfflineReply:
    return OfflineReply(tool_calls=[(name, arguments)])


def _failed(answer: dict[str, Any]) -> str | None:
    if answer.get("ok"):
        return None
    error = answer.get("error") or {}
    return str(error.get("message") or "the tool failed")


# ---------------------------------------------------------------------- intents
def _provider(text: str) -> str | None:
    lowered = text.lower()
    return next((p for p in _PROVIDERS if p in lowered), None)


def _trigger_plan(text: str, provider: str) -> dict[str, Any]:
    clause = _RECURRING.split(text, maxsplit=1)[0].strip(" ,.")
    lowered = text.lower()
    arguments: dict[str, Any] = {"trigger_source": provider}
    command = _COMMAND.search(text)
    channel = _CHANNEL.search(text)
    if command:
        arguments["event_filter"] = {"command": command.group(1).lower()}
    elif channel and provider == "slack":
        arguments["event_filter"] = {"channel": channel.group(1)}
    if provider == "github" and "issue" in lowered:
        arguments["event_type"] = "issues_opened"
    elif provider == "github" and "pull request" in lowered:
        arguments["event_type"] = "pull_request_opened"
    notify_me = lowered.startswith("notify me") or not clause
    if notify_me:
        thing = "new GitHub issue" if arguments.get("event_type") == "issues_opened" else "event"
        # The result reaches the user as the task's own message in the inbox.
        arguments["goal"] = f"Summarize the {thing} for me"
        arguments["response_type"] = "none"
    else:
        arguments["goal"] = clause[0].upper() + clause[1:]
        arguments["response_type"] = {
            "discord": "discord_followup",
            "slack": "slack_message",
            "webhook": "webhook",
        }.get(provider, "none")
    return arguments


def _recurring(turn: _Turn, provider: str) -> OfflineReply:
    name = provider.capitalize() if provider != "github" else "GitHub"
    plan = _trigger_plan(turn.user, provider)
    if not turn.results:
        return _call("integrations", action="list", provider=provider)
    tool, _, answer = turn.results[-1]
    if tool == "integrations":
        problem = _failed(answer)
        if problem:
            return _say(f"I couldn't list your {name} integrations: {problem}")
        found = (answer.get("result") or {}).get("integrations") or []
        active = [i for i in found if i.get("status", "active") == "active"] or found
        if not active:
            return _say(
                f"You don't have {name} connected yet. Connect it under Settings \u2192 "
                "Integrations and ask me again."
            )
        if len(active) > 1:
            names = " ".join(f"[{i.get('name')}]" for i in active)
            return _say(f"Which {name} integration should I use? {names}")
        return _call("create_triggered_task", integration_id=active[0]["integration_id"], **plan)
    problem = _failed(answer)
    if problem:
        return _say(f"I couldn't set that up: {problem}")
    what = plan["goal"][0].lower() + plan["goal"][1:]
    when = (
        f"someone uses /{plan['event_filter']['command']}"
        if "command" in plan.get("event_filter", {})
        else f"a matching {name} event arrives"
    )
    if plan.get("event_type") == "issues_opened":
        when = "a new issue is created on GitHub"
    if plan["response_type"] == "none":
        return _say(f"Done! I'll let you know whenever {when}.")
    return _say(f"Done! I'll {what} whenever {when}.")


def _calendar(turn: _Turn) -> OfflineReply:
    lowered = turn.user.lower()
    day = turn.today + timedelta(days=1) if "tomorrow" in lowered else turn.today
    label = "tomorrow" if "tomorrow" in lowered else "today"
    if not turn.results:
        return _call(
            "workspace_query",
            query="events",
            where={
                "start": {"$gte": day.isoformat(), "$lt": (day + timedelta(days=1)).isoformat()}
            },
            order_by="data.start",
        )
    problem = _failed(turn.results[-1][2])
    if problem:
        return _say(f"I couldn't read your calendar: {problem}")
    events = (turn.results[-1][2].get("result") or {}).get("objects") or []
    if not events:
        return _say(f"Nothing on your calendar {label} ({day.isoformat()}).")
    lines = []
    for event in events:
        data = event.get("data") or {}
        start = str(data.get("start", ""))
        time = start[11:16] if len(start) >= 16 else start
        where = f" \u2014 {data['location']}" if data.get("location") else ""
        lines.append(f"- {time} **{data.get('title', '(untitled)')}**{where}")
    count = f"{len(events)} event{'s' if len(events) != 1 else ''}"
    return _say(f"{label.capitalize()} ({day.isoformat()}) you have {count}:\n" + "\n".join(lines))


def _task(turn: _Turn) -> OfflineReply:
    if not turn.results:
        return _call("create_task", goal=turn.user.strip())
    answer = turn.results[-1][2]
    problem = _failed(answer)
    if problem:
        return _say(f"I couldn't start that task: {problem}")
    task = answer.get("result") or {}
    return _say(
        f"On it: I started a task to **{task.get('goal')}** (`{task.get('task_id')}`). "
        "Its progress will show up here as it runs."
    )


def _one_tool(
    name: str, arguments: Callable[[_Turn], dict[str, Any]], done: str
) -> Callable[[_Turn], OfflineReply]:
    def respond(turn: _Turn) -> OfflineReply:
        if not turn.results:
            return _call(name, **arguments(turn))
        answer = turn.results[-1][2]
        problem = _failed(answer)
        if problem:
            return _say(f"That didn't work: {problem}")
        body = json.dumps(answer.get("result"), ensure_ascii=False, default=str)
        return _say(f"{done}\n```json\n{body[:1500]}\n```")

    return respond


def _email(turn: _Turn) -> dict[str, Any]:
    address = _EMAIL.search(turn.user)
    assert address is not None
    body = turn.user.split(":", 1)[1].strip() if ":" in turn.user else turn.user
    return {"channel": "email", "to": address.group(0), "subject": "A note from Flux", "body": body}


def _remember(turn: _Turn) -> dict[str, Any]:
    fact = _REMEMBER.sub("", turn.user).strip(" :,.") or turn.user
    key = "-".join(re.findall(r"[a-z0-9]+", fact.lower())[:6]) or "note"
    return {"action": "store", "key": key, "title": fact[:80], "body": fact}


_STATUS_TOOL = _one_tool(
    "get_task_status",
    lambda t: {"task_id": m.group(0)} if (m := _UUID.search(t.user)) else {},
    "Here is where things stand:",
)
_CAPS_TOOL = _one_tool("task_capabilities", lambda t: {}, "Here is what I can put to work for you:")
_WEB_TOOL = _one_tool(
    "web_search", lambda t: {"query": _WEB.sub("", t.user).strip(" :,.?") or t.user}, "Found:"
)
_EMAIL_TOOL = _one_tool("send_notification", _email, "Sent for delivery:")
_REMEMBER_TOOL = _one_tool("memory", _remember, "Saved to memory:")
_RECALL_TOOL = _one_tool(
    "memory",
    lambda t: {"action": "search", "text": _RECALL_ABOUT.sub("", t.user).strip(" ?.!") or t.user},
    "From memory:",
)
_AGENT_TOOL = _one_tool(
    "create_agent", lambda t: {"description": t.user.strip()}, "The new agent is registered:"
)
_CONTACTS_TOOL = _one_tool("workspace_query", lambda t: {"query": "contacts"}, "Your contacts:")


def respond(request: OfflineRequest) -> OfflineReply:
    turn = _turn(request)
    text = turn.user
    if _GREETING.search(text) and len(text) < 80:
        return _say(
            "Hi, I'm Flux, your fluxos agent. I can start tasks, check your calendar and "
            f"workspace, set up automations and more. What do you need? {LABEL}"
        )
    provider = _provider(text)
    if _RECURRING.search(text) and provider is not None:
        return _recurring(turn, provider)
    if _AGENT.search(text):
        return _AGENT_TOOL(turn)
    if _EMAIL.search(text) and _SEND.search(text):
        return _EMAIL_TOOL(turn)
    if _REMEMBER.search(text):
        return _REMEMBER_TOOL(turn)
    if _RECALL.search(text):
        return _RECALL_TOOL(turn)
    if _WEB.search(text):
        return _WEB_TOOL(turn)
    if _CAPABILITIES.search(text):
        return _CAPS_TOOL(turn)
    if _STATUS.search(text):
        return _STATUS_TOOL(turn)
    if (_CALENDAR.search(text) and "?" in text) or re.search(r"what'?s on my", text, re.I):
        return _calendar(turn)
    if _CONTACTS.search(text) and "?" in text:
        return _CONTACTS_TOOL(turn)
    return _task(turn)


def register(responders: OfflineResponders) -> OfflineResponders:
    responders.register("chat", respond)
    responders.register("agent_spec", agent_spec)
    return responders


def agent_spec(request: OfflineRequest) -> OfflineReply:
    """An agent's spec from its description: a prompt-defined text agent taking `text`."""
    try:
        brief = json.loads(request.last_user_text)
    except ValueError:
        brief = {"description": request.last_user_text}
    description = str(brief.get("description") or "A text agent.").strip()
    words = re.findall(r"[a-z]+", description.lower())
    stop = {"a", "an", "the", "agent", "that", "which", "create", "make", "build", "new", "to"}
    name = brief.get("name") or "_".join([w for w in words if w not in stop][:3]) or "custom"
    spec = {
        "name": str(name)[:40],
        "domain": "text",
        "description": description[:500],
        "system_prompt": (f'{description}\nAnswer with a JSON object {{"result": "..."}}.'),
        "inputs": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "maxLength": 100000}},
        },
        "outputs": {
            "type": "object",
            "required": ["result"],
            "properties": {"result": {"type": "string"}},
        },
    }
    return OfflineReply(text=json.dumps(spec))
