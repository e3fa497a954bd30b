"""What goes into a model call and what comes out, independent of any provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call; `parameters` is its JSON Schema."""

    name: str
    description: str
    parameters: dict[str, Any]

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str = ""
    """The arguments as the model wrote them (may not have been valid JSON)."""


@dataclass(frozen=True, slots=True)
class ChatRequest:
    task_type: str
    """Chooses the model (cheap models for cheap work) and, offline, the responder."""
    messages: list[dict[str, Any]]
    tools: list[ToolSpec] = field(default_factory=list)
    json_schema: dict[str, Any] | None = None
    """Ask for a JSON object matching this schema (structured output)."""
    max_tokens: int | None = None
    temperature: float = 0.0
    model: str | None = None
    """A model the caller prefers (an agent's own), used when real providers are configured and
    no per-task-type model is set; offline, the task type's offline model answers anyway."""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    tool_calls: list[ToolCall]
    model: str
    offline: bool
    usage: Usage
    cost_usd: Decimal
    call_id: str
    finish_reason: str


@dataclass(frozen=True, slots=True)
class Embedding:
    vector: list[float]
    model: str
    prompt_tokens: int
    cost_usd: Decimal
    call_id: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    completion: Completion


StreamEvent = TextDelta | Finished
