"""Flux's tools, declared once: name, what the model is told, JSON Schema of the arguments, and
whether a call waits for the user's approval first (like a task's checkpoint).

The executors live in `service/chat_tools.py`, each backed by a service contract on the bus;
this module is what the model sees and what arguments are checked against before anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from jsonschema import Draft202012Validator

from shared.llm.types import ToolSpec

Args = Mapping[str, Any]

_PROVIDERS: Final = ["discord", "slack", "github", "stripe", "webhook"]
_ID: Final = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"}


@dataclass(frozen=True)
class FluxTool:
    name: str
    description: str
    parameters: dict[str, Any]
    approval: bool | Callable[[Args], bool] = False
    """True, or a rule on the arguments (an integration `send` asks; a `list` does not)."""
    summary: Callable[[Args], str] | None = None
    """One line for the approval card."""

    def needs_approval(self, arguments: Args) -> bool:
        return self.approval(arguments) if callable(self.approval) else self.approval

    def describe(self, arguments: Args) -> str:
        if self.summary is not None:
            return self.summary(arguments)
        return f"{self.name}({json.dumps(dict(arguments), sort_keys=True)[:300]})"

    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)

    def errors(self, arguments: Args) -> list[str]:
        """What is wrong with the arguments (empty: they fit the schema)."""
        validator = Draft202012Validator(self.parameters)
        found = sorted(validator.iter_errors(dict(arguments)), key=lambda e: list(e.path))
        out = []
        for error in found[:5]:
            where = "/".join(str(p) for p in error.path) or "(arguments)"
            out.append(f"{where}: {error.message[:200]}")
        return out


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


CREATE_TASK = FluxTool(
    name="create_task",
    description=(
        "Start a background task that plans and runs on its own and reports into this "
        "conversation. For multi-step work: research, summaries, compilation, analysis, "
        "content creation, fetching and processing data."
    ),
    parameters=_obj(
        {
            "goal": {"type": "string", "minLength": 1, "maxLength": 4000},
            "notes": {"type": "string", "maxLength": 2000},
            "budget_usd": {"type": "number", "minimum": 0, "maximum": 100},
        },
        ["goal"],
    ),
)
GET_TASK_STATUS = FluxTool(
    name="get_task_status",
    description=(
        "Progress of a task (steps, checkpoints, result) by task_id; without one, this "
        "conversation's active tasks and their pending checkpoints."
    ),
    parameters=_obj({"task_id": _ID}),
)
APPROVE_CHECKPOINT = FluxTool(
    name="approve_checkpoint",
    description=(
        "Approve or reject a task's pending checkpoint. Rejection needs feedback saying why. "
        "Execution resumes by itself after approval."
    ),
    parameters=_obj(
        {
            "task_id": _ID,
            "checkpoint_id": _ID,
            "action": {"enum": ["approve", "reject"]},
            "feedback": {"type": "string", "maxLength": 4000},
        },
        ["task_id", "checkpoint_id", "action"],
    ),
)
WORKSPACE_QUERY = FluxTool(
    name="workspace_query",
    description=(
        "Query the user's workspace. Tasks: active_tasks, recent_completions, task_details "
        "(task_id), search (query). Objects: events, contacts, workspace_objects (object_type), "
        "workspace_search (query, optional object_type). `where` is a MongoDB-style filter over "
        'the object\'s data, e.g. {"start": {"$gte": "2026-01-30"}}; order_by e.g. data.start.'
    ),
    parameters=_obj(
        {
            "query": {
                "enum": [
                    "active_tasks",
                    "recent_completions",
                    "task_details",
                    "search",
                    "events",
                    "contacts",
                    "workspace_objects",
                    "workspace_search",
                ]
            },
            "task_id": _ID,
            "text": {"type": "string", "minLength": 1, "maxLength": 500},
            "object_type": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
            "where": {"type": "object"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 32},
            "order_by": {"type": "string", "maxLength": 210},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        },
        ["query"],
    ),
)
WEB_SEARCH = FluxTool(
    name="web_search",
    description=(
        "Search the web for current information; answers with a summary and source URLs. "
        "Only if a web search provider is configured; otherwise it says so."
    ),
    parameters=_obj({"query": {"type": "string", "minLength": 1, "maxLength": 500}}, ["query"]),
)
SEND_NOTIFICATION = FluxTool(
    name="send_notification",
    description=(
        "Send an email through the notification service. The user approves it before it goes."
    ),
    parameters=_obj(
        {
            "channel": {"enum": ["email"]},
            "to": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$", "maxLength": 320},
            "subject": {"type": "string", "minLength": 1, "maxLength": 998},
            "body": {"type": "string", "minLength": 1, "maxLength": 100000},
        },
        ["to", "subject", "body"],
    ),
    approval=True,
    summary=lambda a: f"Send an email to {a.get('to')}: \u201c{a.get('subject')}\u201d",
)
TASK_CAPABILITIES = FluxTool(
    name="task_capabilities",
    description=(
        "What the platform can do: agents by kind (agent, primitive, plugin), domain or free "
        "text; detail=true adds their input and output schemas."
    ),
    parameters=_obj(
        {
            "capability_type": {"enum": ["agent", "primitive", "plugin"]},
            "domain": {"type": "string", "maxLength": 64},
            "query": {"type": "string", "maxLength": 200},
            "detail": {"type": "boolean"},
        }
    ),
)


def _integration_send(arguments: Args) -> bool:
    return arguments.get("action") == "send"


INTEGRATIONS = FluxTool(
    name="integrations",
    description=(
        "The user's connected services (Discord, Slack, GitHub, Stripe, webhooks). list "
        "(optional provider), status (integration_id), send (provider or integration_id, "
        "action_type send_message | send_embed | create_issue | post_webhook, content, title, "
        "description, payload). Sending asks the user first."
    ),
    parameters=_obj(
        {
            "action": {"enum": ["list", "status", "send"]},
            "provider": {"enum": _PROVIDERS},
            "integration_id": _ID,
            "action_type": {"enum": ["send_message", "send_embed", "create_issue", "post_webhook"]},
            "content": {"type": "string", "maxLength": 4000},
            "title": {"type": "string", "maxLength": 256},
            "description": {"type": "string", "maxLength": 4096},
            "channel_id": {"type": "string", "maxLength": 100},
            "payload": {"type": "object"},
        },
        ["action"],
    ),
    approval=_integration_send,
    summary=lambda a: (
        f"{a.get('action_type', 'send_message')} via "
        f"{a.get('provider') or a.get('integration_id')}: "
        f"{(a.get('content') or a.get('title') or '')[:120]}"
    ),
)
CREATE_AGENT = FluxTool(
    name="create_agent",
    description=(
        "Create a new agent for this organisation from a description (what it does, its "
        "inputs and outputs): the spec is generated, validated and registered, and tasks can "
        "use it at once. Call task_capabilities first to be sure none fits."
    ),
    parameters=_obj(
        {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,47}$"},
            "description": {"type": "string", "minLength": 10, "maxLength": 2000},
        },
        ["description"],
    ),
)
MEMORY = FluxTool(
    name="memory",
    description=(
        "The organisation's memory. search (text, topic, tags or key) or store (key, title, "
        "body, optional topic and tags) preferences, decisions and facts."
    ),
    parameters=_obj(
        {
            "action": {"enum": ["search", "store"]},
            "text": {"type": "string", "maxLength": 500},
            "key": {"type": "string", "maxLength": 200},
            "title": {"type": "string", "maxLength": 200},
            "body": {"type": "string", "maxLength": 20000},
            "topic": {"type": "string", "maxLength": 100},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 32},
        },
        ["action"],
    ),
)
CREATE_TRIGGERED_TASK = FluxTool(
    name="create_triggered_task",
    description=(
        "A task that runs every time a matching event arrives (a Discord slash command, a "
        "GitHub issue, a Slack message, a webhook). First list the integrations of the source "
        'and use its integration_id. event_filter e.g. {"command": "ping"}.'
    ),
    parameters=_obj(
        {
            "goal": {"type": "string", "minLength": 1, "maxLength": 4000},
            "trigger_source": {"enum": [*_PROVIDERS, "platform"]},
            "integration_id": _ID,
            "event_type": {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"},
            "event_filter": {"type": "object"},
            "response_type": {"enum": ["discord_followup", "slack_message", "webhook", "none"]},
            "name": {"type": "string", "maxLength": 200},
        },
        ["goal", "trigger_source"],
    ),
)

TOOLS: Final[tuple[FluxTool, ...]] = (
    CREATE_TASK,
    GET_TASK_STATUS,
    APPROVE_CHECKPOINT,
    WORKSPACE_QUERY,
    WEB_SEARCH,
    SEND_NOTIFICATION,
    TASK_CAPABILITIES,
    INTEGRATIONS,
    CREATE_AGENT,
    MEMORY,
    CREATE_TRIGGERED_TASK,
)
BY_NAME: Final[dict[str, FluxTool]] = {t.name: t for t in TOOLS}


def catalogue() -> str:
    """The tool catalogue block of the system prompt."""
    lines = []
    for tool in TOOLS:
        gate = " (asks the user first)" if tool.approval is True else ""
        lines.append(f"- **{tool.name}**{gate}: {tool.description}")
    return "\n".join(lines)
