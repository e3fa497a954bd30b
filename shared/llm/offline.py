"""The built-in offline model: deterministic, free, and clearly labelled as not a real model.

It is a litellm custom provider (`fluxos-offline/<task type>`), so everything above it, the
gateway's budgets, cost accounting, streaming and tool calls, runs exactly as it does with a
real model. What it answers is decided by responders: a service registers one per task type
(Tentacle's planner, the Flux chat agent); anything else gets the generic responder, which
echoes a digest of the request, or the smallest object valid for a requested JSON schema.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from litellm.llms.custom_llm import CustomLLM
from litellm.types.llms.openai import ChatCompletionToolCallChunk
from litellm.types.utils import (
    ChatCompletionMessageToolCall,
    Function,
    GenericStreamingChunk,
    ModelResponse,
)

from contracts.ids import new_id

OFFLINE_PROVIDER = "fluxos-offline"
OFFLINE_LABEL = "[offline model]"
RESPONDERS_KEY = "fluxos_responders"
"""Call metadata naming the responders of the gateway that made the call."""


@dataclass(frozen=True, slots=True)
class OfflineRequest:
    task_type: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    json_schema: dict[str, Any] | None

    @property
    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") == "user" and isinstance(message.get("content"), str):
                return str(message["content"])
        return ""

    @property
    def tool_names(self) -> list[str]:
        return [t.get("function", {}).get("name", "") for t in self.tools]


@dataclass(frozen=True, slots=True)
class OfflineReply:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


Responder = Callable[[OfflineRequest], OfflineReply]


def minimal_instance(schema: dict[str, Any]) -> Any:
    """The smallest value a JSON schema accepts (required properties only, first enum value)."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if schema.get(combinator):
            return minimal_instance(schema[combinator][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_instance(props.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal_instance(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "x" * int(schema.get("minLength", 0))
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return None


def generic_responder(request: OfflineRequest) -> OfflineReply:
    if request.json_schema is not None:
        return OfflineReply(text=json.dumps(minimal_instance(request.json_schema)))
    words = request.last_user_text.split()
    digest = " ".join(words[:40]) + (" ..." if len(words) > 40 else "")
    return OfflineReply(text=f"{OFFLINE_LABEL} {digest}".strip())


class OfflineResponders:
    def __init__(self) -> None:
        self._by_task: dict[str, Responder] = {}
        self.key = new_id()
        _ALL[self.key] = self

    def register(self, task_type: str, responder: Responder) -> None:
        self._by_task[task_type] = responder

    def reply(self, request: OfflineRequest) -> OfflineReply:
        return self._by_task.get(request.task_type, generic_responder)(request)


_ALL: weakref.WeakValueDictionary[str, OfflineResponders] = weakref.WeakValueDictionary()


def _responders_of(litellm_params: dict[str, Any] | None) -> OfflineResponders:
    key = ((litellm_params or {}).get("metadata") or {}).get(RESPONDERS_KEY)
    found = _ALL.get(key) if isinstance(key, str) else None
    return found if found is not None else _DEFAULT


def _tokens(text: str) -> int:
    # A stable stand-in for a tokenizer: the offline model is free, the count is informative.
    return max(1, len(text) // 4)


class OfflineModel(CustomLLM):
    """Answers with the responders of whichever gateway made the call (see RESPONDERS_KEY)."""

    def _request(self, model: str, messages: list[Any], params: dict[str, Any]) -> OfflineRequest:
        schema = None
        response_format = params.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            schema = response_format.get("json_schema", {}).get("schema")
        return OfflineRequest(
            task_type=model.split("/", 1)[-1],
            messages=[dict(m) for m in messages],
            tools=list(params.get("tools") or []),
            json_schema=schema,
        )

    def _answer(self, model: str, messages: list[Any], kwargs: dict[str, Any]) -> ModelResponse:
        request = self._request(model, messages, kwargs["optional_params"])
        reply = _responders_of(kwargs.get("litellm_params")).reply(request)
        response: ModelResponse = kwargs["model_response"]
        message = response.choices[0].message
        message.content = reply.text or None
        if reply.tool_calls:
            message.tool_calls = [
                ChatCompletionMessageToolCall(
                    id=f"call_{new_id()[-12:]}",
                    type="function",
                    function=Function(name=name, arguments=json.dumps(args)),
                )
                for name, args in reply.tool_calls
            ]
        response.choices[0].finish_reason = "tool_calls" if reply.tool_calls else "stop"
        response.model = f"{OFFLINE_PROVIDER}/{request.task_type}"
        prompt = sum(_tokens(str(m.get("content") or "")) for m in request.messages)
        completion = _tokens(reply.text + json.dumps(reply.tool_calls))
        response.usage = {  # type: ignore[attr-defined]
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        response.created = int(time.time())
        return response

    def completion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        return self._answer(model, messages, kwargs)

    async def acompletion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        return self._answer(model, messages, kwargs)

    def _chunks(
        self, model: str, messages: list[Any], kwargs: dict[str, Any]
    ) -> Iterator[GenericStreamingChunk]:
        request = self._request(model, messages, kwargs["optional_params"])
        reply = _responders_of(kwargs.get("litellm_params")).reply(request)
        words = reply.text.split(" ") if reply.text else []
        for i, word in enumerate(words):
            yield GenericStreamingChunk(
                text=word if i == 0 else " " + word,
                is_finished=False,
                finish_reason="",
                usage=None,
                index=0,
                tool_use=None,
            )
        for i, (name, arguments) in enumerate(reply.tool_calls):
            yield GenericStreamingChunk(
                text="",
                is_finished=False,
                finish_reason="",
                usage=None,
                index=0,
                tool_use=ChatCompletionToolCallChunk(
                    id=f"call_{new_id()[-12:]}",
                    type="function",
                    function={"name": name, "arguments": json.dumps(arguments)},
                    index=i,
                ),
            )
        prompt = sum(_tokens(str(m.get("content") or "")) for m in request.messages)
        completion = _tokens(reply.text + json.dumps(reply.tool_calls))
        yield GenericStreamingChunk(
            text="",
            is_finished=True,
            finish_reason="tool_calls" if reply.tool_calls else "stop",
            usage={
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            index=0,
            tool_use=None,
        )

    def streaming(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        yield from self._chunks(model, messages, kwargs)

    async def astreaming(  # type: ignore[override]
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self._chunks(model, messages, kwargs):
            yield chunk


_DEFAULT = OfflineResponders()
