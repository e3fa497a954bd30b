"""Flux's tool executors: each one a service contract on the bus (tentacle's own task, object,
agent and trigger RPCs; mimic's notifications and integrations).

A tool never raises into the conversation: whatever happens becomes a `ToolOutcome` the model
reads (a remote service's error keeps its stable code). Arguments are checked against the
tool's schema before anything runs, so a malformed call changes nothing.

Side effects are idempotent by `key` (the reply, its round and the call's place in it): a
reply re-run after a crash makes the same request ids, and the services behind them answer the
second time with what the first did.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import yaml
from pydantic import JsonValue, ValidationError

from contracts.envelope import ErrorV1
from contracts.mimic.models import (
    ContentV1,
    CreateIssueV1,
    ExecuteActionV1,
    GetIntegrationV1,
    IntegrationProvider,
    IntegrationV1,
    ListIntegrationsV1,
    PostWebhookV1,
    RecipientV1,
    SendEmbedV1,
    SendMessageV1,
    SendNotificationV1,
    action_id,
    notification_id,
)
from contracts.mimic.subjects import ACTION_EXECUTE, INTEGRATION_GET, INTEGRATION_LIST, SEND
from contracts.tentacle import objects as o
from contracts.tentacle import subjects as s
from contracts.tentacle.chat_errors import ChatErrorCode
from contracts.tentacle.checkpoints import (
    ApprovalResponseV1,
    CheckpointStatus,
    ListCheckpointsV1,
    RespondCheckpointV1,
)
from contracts.tentacle.memory import (
    MEMORY_SEARCH,
    MEMORY_STORE,
    MemoryHitsV1,
    MemorySource,
    MemoryV1,
    SearchMemoryV1,
    StoreMemoryV1,
)
from contracts.tentacle.models import (
    CapabilityKind,
    CreateTaskV1,
    GetTaskV1,
    ListCapabilitiesV1,
    ListTasksV1,
    RegisterAgentV1,
    SearchTasksV1,
    TaskConstraintsV1,
    TaskDetailV1,
    TaskStatus,
    TaskV1,
)
from contracts.tentacle.triggers import (
    TRIGGER_CREATE,
    TRIGGER_LIST,
    CreateTriggerV1,
    ListTriggersV1,
    ResponseType,
    TriggerListV1,
    TriggerSource,
    TriggerV1,
)
from shared.bus import Bus, RemoteError
from shared.errors import FluxosError
from shared.llm import BudgetScope, ChatRequest, LLMGateway
from tentacle.domain.flux_tools import BY_NAME
from tentacle.settings import TentacleSettings

ACTIVE: Final = [TaskStatus.PLANNING, TaskStatus.READY, TaskStatus.EXECUTING, TaskStatus.CHECKPOINT]
FINISHED: Final = [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]
_MAX_RESULT_ITEMS: Final = 50
_RPC_TIMEOUT_S: Final = 15.0


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    ok: bool
    result: JsonValue = None
    error: ErrorV1 | None = None

    def for_model(self) -> JsonValue:
        if self.ok:
            return {"ok": True, "result": self.result}
        assert self.error is not None
        return {"ok": False, "error": {"code": self.error.code, "message": self.error.message}}


def failure(code: str, message: str, **details: Any) -> ToolOutcome:
    return ToolOutcome(ok=False, error=ErrorV1(code=code, message=message, details=details or None))


@dataclass(frozen=True, slots=True)
class ToolContext:
    org_id: str
    conversation_id: str
    reply_id: str
    key: str
    """Stable for this call across re-runs: the idempotency key of what it does."""


class ToolBox:
    """Runs the registry's tools against the platform's services."""

    def __init__(self, bus: Bus, gateway: LLMGateway, settings: TentacleSettings) -> None:
        self.bus = bus
        self.gateway = gateway
        self.settings = settings
        self._run: Mapping[str, Callable[[ToolContext, dict[str, Any]], Awaitable[JsonValue]]] = {
            "create_task": self._create_task,
            "get_task_status": self._get_task_status,
            "approve_checkpoint": self._approve_checkpoint,
            "workspace_query": self._workspace_query,
            "web_search": self._web_search,
            "send_notification": self._send_notification,
            "task_capabilities": self._task_capabilities,
            "integrations": self._integrations,
            "create_agent": self._create_agent,
            "memory": self._memory,
            "create_triggered_task": self._create_triggered_task,
        }

    def check(self, name: str, arguments: Mapping[str, Any], raw: str) -> ToolOutcome | None:
        """Why this call cannot run as written (None: it can)."""
        tool = BY_NAME.get(name)
        if tool is None:
            return failure(
                ChatErrorCode.TOOL_UNKNOWN, f"there is no tool {name!r}", tools=sorted(BY_NAME)
            )
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                return failure(
                    ChatErrorCode.TOOL_ARGUMENTS_INVALID,
                    "the arguments are not a JSON object; nothing was done",
                )
        problems = tool.errors(arguments)
        if problems:
            return failure(
                ChatErrorCode.TOOL_ARGUMENTS_INVALID,
                "invalid arguments, nothing was done: " + "; ".join(problems),
                problems=problems,
            )
        return None

    async def run(self, context: ToolContext, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        try:
            result = await self._run[name](context, arguments)
        except _Refused as exc:
            return failure(exc.code, exc.message)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(str(p) for p in first.get("loc", ()))
            return failure(
                ChatErrorCode.TOOL_ARGUMENTS_INVALID,
                f"invalid arguments, nothing was done: {where}: {first.get('msg')}",
            )
        except RemoteError as exc:
            return ToolOutcome(
                ok=False,
                error=ErrorV1(code=exc.code, message=exc.message, retryable=exc.retryable),
            )
        except FluxosError as exc:  # the bus or a model was unavailable: say so, do not retry
            return failure(
                ChatErrorCode.TOOL_FAILED, f"{name} could not run: {exc.message}", cause=exc.code
            )
        return ToolOutcome(ok=True, result=result)

    async def _ask(self, subject: Any, payload: Any, context: ToolContext) -> Any:
        return await self.bus.request(
            subject, payload, org_id=context.org_id, timeout=_RPC_TIMEOUT_S
        )

    # ---------------------------------------------------------------- tasks
    async def _create_task(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        budget = a.get("budget_usd")
        request = CreateTaskV1(
            request_id=context.key,
            goal=a["goal"],
            constraints=TaskConstraintsV1(notes=a.get("notes", "")),
            budget_usd=Decimal(str(budget)) if budget is not None else None,
            conversation_id=context.conversation_id,
        )
        task: TaskV1 = await self._ask(s.TASK_CREATE_RPC, request, context)
        return {"task_id": task.task_id, "goal": task.goal, "status": task.status.value}

    async def _get_task_status(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        if "task_id" in a:
            detail: TaskDetailV1 = await self._ask(
                s.TASK_GET, GetTaskV1(task_id=a["task_id"], include_outputs=False), context
            )
            return task_detail(detail)
        tasks = await self._ask(
            s.TASK_LIST,
            ListTasksV1(conversation_id=context.conversation_id, statuses=ACTIVE, limit=20),
            context,
        )
        checkpoints = await self._ask(
            s.CHECKPOINT_LIST, ListCheckpointsV1(conversation_id=context.conversation_id), context
        )
        return {
            "active_tasks": [task_line(t) for t in tasks.tasks],
            "pending_checkpoints": [
                {
                    "task_id": c.task_id,
                    "checkpoint_id": c.checkpoint_id,
                    "title": c.title,
                    "message": c.message,
                }
                for c in checkpoints.checkpoints
            ],
        }

    async def _approve_checkpoint(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        approved = a["action"] == "approve"
        if not approved and not (a.get("feedback") or "").strip():
            raise _Refused(
                ChatErrorCode.TOOL_ARGUMENTS_INVALID,
                "a rejection needs feedback saying why; nothing was done",
            )
        answer = await self._ask(
            s.TASK_RESPOND_CHECKPOINT,
            RespondCheckpointV1(
                task_id=a["task_id"],
                checkpoint_id=a["checkpoint_id"],
                response=ApprovalResponseV1(approved=approved, feedback=a.get("feedback")),
            ),
            context,
        )
        resumed = answer.status is CheckpointStatus.APPROVED
        return {
            "checkpoint_id": answer.checkpoint_id,
            "status": answer.status.value,
            "execution_resumed": resumed,
        }

    # ---------------------------------------------------------------- workspace
    async def _workspace_query(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        query = a["query"]
        limit = int(a.get("limit", 20))
        if query == "active_tasks":
            found = await self._ask(s.TASK_LIST, ListTasksV1(statuses=ACTIVE, limit=limit), context)
            return {"tasks": [task_line(t) for t in found.tasks]}
        if query == "recent_completions":
            found = await self._ask(
                s.TASK_LIST, ListTasksV1(statuses=FINISHED, limit=limit), context
            )
            return {"tasks": [task_line(t) for t in found.tasks]}
        if query == "task_details":
            if "task_id" not in a:
                raise _Refused(ChatErrorCode.TOOL_ARGUMENTS_INVALID, "task_details needs task_id")
            detail = await self._ask(
                s.TASK_GET, GetTaskV1(task_id=a["task_id"], include_outputs=True), context
            )
            return task_detail(detail)
        if query == "search":
            text = _need(a, "text", query)
            found = await self._ask(
                s.TASK_SEARCH, SearchTasksV1(query=text, limit=min(limit, 100)), context
            )
            return {"tasks": [task_line(t) for t in found.tasks]}
        if query == "workspace_search":
            text = _need(a, "text", query)
            hits = await self._ask(
                o.OBJECT_SEARCH,
                o.SearchObjectsV1(query=text, type=a.get("object_type"), limit=limit),
                context,
            )
            return {
                "hits": [
                    {
                        "type": h.object.type,
                        "id": h.object.id,
                        "data": h.object.data,
                        "snippet": h.snippet,
                    }
                    for h in hits.hits
                ]
            }
        object_type = {"events": "event", "contacts": "contact"}.get(query, a.get("object_type"))
        if object_type is None:
            raise _Refused(
                ChatErrorCode.TOOL_ARGUMENTS_INVALID, "workspace_objects needs object_type"
            )
        default_order = "data.start" if object_type == "event" else "-updated_at"
        page = await self._ask(
            o.OBJECT_QUERY,
            o.QueryObjectsV1(
                type=object_type,
                where=a.get("where", {}),
                tags_any=a.get("tags", []),
                order_by=a.get("order_by", default_order),
                limit=limit,
            ),
            context,
        )
        return {
            "type": object_type,
            "count": len(page.objects),
            "objects": [{"id": x.id, "data": x.data, "tags": x.tags} for x in page.objects],
            "more": page.next_cursor is not None,
        }

    async def _web_search(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        # Configured means a model of its own for web search (a provider with web access, e.g.
        # an OpenRouter model with its web plugin); the chat model would only make things up.
        if "web_search" not in self.settings.llm.models:
            raise _Refused(
                ChatErrorCode.TOOL_NOT_CONFIGURED,
                "web search is not configured on this platform (no web search model is set: "
                'FLUXOS_LLM_MODELS={"web_search": "..."}); no search was made',
            )
        done = await self.gateway.complete(
            ChatRequest(
                task_type="web_search",
                messages=[
                    {
                        "role": "system",
                        "content": "Search the web and answer with a short summary and the "
                        "source URLs you used.",
                    },
                    {"role": "user", "content": a["query"]},
                ],
            ),
            scope=BudgetScope(org_id=context.org_id, agent="flux"),
        )
        return {"query": a["query"], "answer": done.text, "model": done.model}

    # ---------------------------------------------------------------- mimic
    async def _send_notification(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        command = SendNotificationV1(
            idempotency_key=context.key,
            to=RecipientV1(address=a["to"]),
            content=ContentV1(subject=a["subject"], text=a["body"]),
            metadata={"conversation_id": context.conversation_id, "reply_id": context.reply_id},
        )
        await self.bus.publish(SEND, command, org_id=context.org_id, message_id=context.key)
        return {
            "notification_id": notification_id(context.org_id, context.key),
            "to": a["to"],
            "status": "queued",
        }

    async def _integrations(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        action = a["action"]
        provider = IntegrationProvider(a["provider"]) if "provider" in a else None
        if action == "list":
            found = await self._ask(
                INTEGRATION_LIST, ListIntegrationsV1(provider=provider), context
            )
            return {"integrations": [integration_line(i) for i in found.integrations]}
        if action == "status":
            integration_id = _need(a, "integration_id", "status")
            one = await self._ask(
                INTEGRATION_GET, GetIntegrationV1(integration_id=integration_id), context
            )
            return integration_line(one)
        if provider is None and "integration_id" not in a:
            raise _Refused(
                ChatErrorCode.TOOL_ARGUMENTS_INVALID, "send needs a provider or an integration_id"
            )
        command = ExecuteActionV1(
            idempotency_key=context.key,
            integration_id=a.get("integration_id"),
            provider=provider,
            action=_action(a),
            metadata={"conversation_id": context.conversation_id, "reply_id": context.reply_id},
        )
        await self.bus.publish(
            ACTION_EXECUTE, command, org_id=context.org_id, message_id=context.key
        )
        return {"action_id": action_id(context.org_id, context.key), "status": "queued"}

    # ---------------------------------------------------------------- agents, memory, triggers
    async def _task_capabilities(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        kind = a.get("capability_type")
        found = await self._ask(
            s.CAPABILITIES_LIST,
            ListCapabilitiesV1(
                kind=CapabilityKind(kind) if kind else None,
                domain=a.get("domain"),
                query=a.get("query"),
                detail=bool(a.get("detail", False)),
            ),
            context,
        )
        return {
            "capabilities": [
                c.model_dump(mode="json", exclude_none=True)
                for c in found.capabilities[:_MAX_RESULT_ITEMS]
            ]
        }

    async def _create_agent(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        done = await self.gateway.complete(
            ChatRequest(
                task_type="agent_spec",
                messages=[
                    {"role": "system", "content": AGENT_SPEC_PROMPT},
                    {"role": "user", "content": json.dumps(a)},
                ],
                json_schema=AGENT_SPEC_SCHEMA,
            ),
            scope=BudgetScope(org_id=context.org_id, agent="flux"),
        )
        try:
            generated = json.loads(done.text)
        except ValueError:
            raise _Refused(
                ChatErrorCode.TOOL_FAILED, "the generated agent spec was not JSON; nothing saved"
            ) from None
        if not isinstance(generated, dict):
            raise _Refused(ChatErrorCode.TOOL_FAILED, "the generated agent spec was not an object")
        if a.get("name"):
            generated["name"] = a["name"]
        spec = {
            **generated,
            "runtime": "llm",
            "task_type": generated.get("task_type") or generated.get("name"),
        }
        registered = await self._ask(
            s.AGENT_REGISTER, RegisterAgentV1(yaml=yaml.safe_dump(spec, sort_keys=False)), context
        )
        return {
            "name": registered.name,
            "description": registered.description,
            "domain": registered.domain,
            "registered": True,
        }

    async def _memory(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        if a["action"] == "store":
            for name in ("key", "title", "body"):
                _need(a, name, "store")
            stored: MemoryV1 = await self._ask(
                MEMORY_STORE,
                StoreMemoryV1(
                    key=a["key"],
                    title=a["title"],
                    body=a["body"],
                    topic=a.get("topic"),
                    tags=a.get("tags", []),
                    source=MemorySource.CONVERSATION,
                ),
                context,
            )
            return {"key": stored.key, "version": stored.version, "stored": True}
        if not any(a.get(k) for k in ("text", "key", "topic", "tags")):
            raise _Refused(
                ChatErrorCode.TOOL_ARGUMENTS_INVALID, "search needs text, key, topic or tags"
            )
        hits: MemoryHitsV1 = await self._ask(
            MEMORY_SEARCH,
            SearchMemoryV1(
                text=a.get("text") or None,
                key=a.get("key"),
                topic=a.get("topic"),
                tags=a.get("tags", []),
            ),
            context,
        )
        return {
            "memories": [
                {
                    "key": h.memory.key,
                    "title": h.memory.title,
                    "body": h.memory.body[:2000],
                    "topic": h.memory.topic,
                    "tags": ", ".join(h.memory.tags),
                }
                for h in hits.hits
            ]
        }

    async def _create_triggered_task(self, context: ToolContext, a: dict[str, Any]) -> JsonValue:
        request = CreateTriggerV1(
            goal=a["goal"],
            trigger_source=TriggerSource(a["trigger_source"]),
            integration_id=a.get("integration_id"),
            event_type=a.get("event_type"),
            event_filter=a.get("event_filter", {}),
            response_type=ResponseType(a.get("response_type", "none")),
            name=a.get("name"),
        )
        # Asked twice (a retried reply, or the user again), the same trigger is not made twice.
        existing: TriggerListV1 = await self._ask(
            TRIGGER_LIST,
            ListTriggersV1(trigger_source=request.trigger_source, include_disabled=False),
            context,
        )
        trigger: TriggerV1 | None = next(
            (
                t
                for t in existing.triggers
                if (t.goal, t.integration_id, t.event_type, t.event_filter, t.response_type)
                == (
                    request.goal,
                    request.integration_id,
                    request.event_type,
                    request.event_filter,
                    request.response_type,
                )
            ),
            None,
        )
        if trigger is None:
            trigger = await self._ask(TRIGGER_CREATE, request, context)
        return {
            "trigger_id": trigger.trigger_id,
            "goal": trigger.goal,
            "trigger_source": trigger.trigger_source.value,
            "integration_id": trigger.integration_id,
            "event_type": trigger.event_type,
            "event_filter": trigger.event_filter,
            "response_type": trigger.response_type.value,
            "enabled": trigger.enabled,
        }


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _need(a: Mapping[str, Any], name: str, query: str) -> Any:
    if name not in a:
        raise _Refused(ChatErrorCode.TOOL_ARGUMENTS_INVALID, f"{query} needs {name}")
    return a[name]


def _action(a: Mapping[str, Any]) -> Any:
    kind = a.get("action_type", "send_message")
    content = a.get("content")
    channel = a.get("channel_id")
    if kind == "send_embed":
        return SendEmbedV1(
            title=a.get("title"),
            description=a.get("description"),
            text=content,
            channel_id=channel,
        )
    if kind == "create_issue":
        return CreateIssueV1(
            title=a.get("title") or (content or "")[:256], body=a.get("description") or content
        )
    if kind == "post_webhook":
        return PostWebhookV1(payload=a.get("payload") or {"text": content})
    return SendMessageV1(text=content or "", channel_id=channel)


def task_line(task: TaskV1) -> dict[str, JsonValue]:
    line: dict[str, JsonValue] = {
        "task_id": task.task_id,
        "goal": task.goal,
        "status": task.status.value,
        "steps_done": task.steps_done,
        "steps_total": task.steps_total,
        "progress_pct": round(100 * task.steps_done / task.steps_total) if task.steps_total else 0,
    }
    if task.summary:
        line["summary"] = task.summary[:1000]
    if task.error is not None:
        line["error"] = task.error.message
    return line


def task_detail(detail: TaskDetailV1) -> dict[str, JsonValue]:
    out = task_line(detail.task)
    out["steps"] = [
        {
            "step_id": st.step_id,
            "agent": st.agent,
            "status": st.status.value,
            "description": st.description,
        }
        for st in detail.steps
    ]
    out["pending_checkpoints"] = [
        {
            "checkpoint_id": c.checkpoint_id,
            "step_id": c.step_id,
            "title": c.title,
            "message": c.message,
            "preview": c.preview,
        }
        for c in detail.checkpoints
        if c.status is CheckpointStatus.PENDING
    ]
    if detail.task.result is not None:
        text = json.dumps(detail.task.result, default=str)
        out["result"] = detail.task.result if len(text) <= 4000 else text[:4000] + "..."
    return out


def integration_line(integration: IntegrationV1) -> dict[str, JsonValue]:
    return {
        "integration_id": integration.integration_id,
        "provider": integration.provider.value,
        "name": integration.name,
        "status": integration.status.value,
    }


AGENT_SPEC_PROMPT: Final = (
    "Write the specification of a new agent from the user's description, as a JSON object: "
    "name (lowercase_with_underscores), domain, description (one or two sentences), "
    "system_prompt (how the agent works and answers, asking for a JSON object matching its "
    "outputs), inputs and outputs (JSON Schemas of type object)."
)
AGENT_SPEC_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,47}$"},
        "domain": {"type": "string"},
        "description": {"type": "string"},
        "system_prompt": {"type": "string"},
        "inputs": {"type": "object"},
        "outputs": {"type": "object"},
    },
    "required": ["name", "description", "system_prompt", "inputs", "outputs"],
}
