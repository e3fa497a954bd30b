"""Agent definitions: what an agent is called, takes, returns, risks and may spend.

Agents are configured in YAML (`tentacle/agents/*.yaml` for the built-in ones; organisations
register their own prompt-defined agents); this model is what every such file must satisfy.
"""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator

from contracts.tentacle.checkpoints import DefaultAction
from contracts.tentacle.models import CapabilityKind
from contracts.tentacle.plans import CheckpointType, Risk


def _text_only(prop: dict[str, Any]) -> bool:
    kind = prop.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    return "string" in kinds and not kinds & {"object", "array"}


Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,47}$")]


class Runtime(StrEnum):
    """The code that runs an agent; prompt-defined agents all run on `llm`."""

    NOOP = "noop"
    HTTP_FETCH = "http_fetch"
    LLM = "llm"
    NOTIFY = "notify"
    FILE_STORAGE = "file_storage"


class EffectCategory(StrEnum):
    """Operations the checkpoint rules treat as risky."""

    EXTERNAL_CALL = "external_call"
    DATA_MUTATION = "data_mutation"
    SEND_MESSAGE = "send_message"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Condition(_Spec):
    """True when the step's input `input` is (or is not) one of the listed values."""

    input: str
    in_: list[JsonValue] | None = Field(default=None, alias="in")
    not_in: list[JsonValue] | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.in_ is None) == (self.not_in is None):
            raise ValueError("a condition needs exactly one of `in` or `not_in`")
        return self

    def holds(self, inputs: dict[str, Any]) -> bool:
        value = _fold(inputs.get(self.input))
        if self.in_ is not None:
            return value in [_fold(v) for v in self.in_]
        return value not in [_fold(v) for v in self.not_in or []]


def _fold(value: Any) -> Any:
    # "post" and "POST" are the same method; case never distinguishes the values listed here.
    return value.casefold() if isinstance(value, str) else value


class Effect(_Spec):
    category: EffectCategory
    reason: str = Field(min_length=1, max_length=200)
    when: Condition | None = None

    def applies(self, inputs: dict[str, Any]) -> bool:
        return self.when is None or self.when.holds(inputs)


class Undo(_Spec):
    """How a completed step's effect is undone (a rollback runs it): the agent again, with
    `inputs` plus fields of the step's output (`from_output`: input name -> output field).
    `when` limits it to the steps it fits (a save can be undone, a delete here cannot)."""

    when: Condition | None = None
    inputs: dict[str, JsonValue] = Field(default_factory=dict)
    from_output: dict[str, str] = Field(default_factory=dict)

    def inputs_for(self, inputs: dict[str, Any], output: Any) -> dict[str, Any] | None:
        """The undoing step's inputs, or None if this step's effect cannot be undone so."""
        if self.when is not None and not self.when.holds(inputs):
            return None
        undo: dict[str, Any] = dict(self.inputs)
        for name, field in self.from_output.items():
            if not isinstance(output, dict) or output.get(field) is None:
                return None
            undo[name] = output[field]
        return undo


class CheckpointMode(StrEnum):
    RULES = "rules"
    """Ask when the platform's rules say so (risky effects, high risk, cost)."""
    ALWAYS = "always"
    NEVER = "never"


class AgentCheckpoint(_Spec):
    mode: CheckpointMode = CheckpointMode.RULES
    type: CheckpointType = CheckpointType.APPROVAL
    default_action: DefaultAction = DefaultAction.REJECT
    ttl_seconds: int | None = Field(default=None, ge=10, le=30 * 86400)


class AgentBudget(_Spec):
    max_usd_per_task: Decimal | None = Field(default=None, ge=0)
    estimated_cost_usd: Decimal = Field(default=Decimal(0), ge=0)


class AgentSpec(_Spec):
    name: Name
    kind: CapabilityKind = CapabilityKind.AGENT
    domain: str = Field(default="general", max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    version: int = Field(default=1, ge=1)
    runtime: Runtime
    task_type: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{0,47}$",
        description="Chooses the model (FLUXOS_LLM_MODELS maps task types to models).",
    )
    model: str | None = Field(
        default=None,
        min_length=3,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.:-]+/[A-Za-z0-9_./:@-]+$",
        description="A litellm model (provider/name) this agent prefers; a model configured "
        "for its task type wins, and an offline deployment stays offline.",
    )
    system_prompt: str = Field(default="", max_length=20_000)
    inputs: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    outputs: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    tools: list[Name] = Field(default_factory=list, max_length=20)
    risk: Risk = Risk.LOW
    effects: list[Effect] = Field(default_factory=list, max_length=10)
    undo: Undo | None = None
    checkpoint: AgentCheckpoint = Field(default_factory=AgentCheckpoint)
    budget: AgentBudget = Field(default_factory=AgentBudget)
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.runtime is Runtime.LLM and self.task_type is None:
            raise ValueError("an llm agent needs a task_type (it chooses the model)")
        for label, schema in (("inputs", self.inputs), ("outputs", self.outputs)):
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise ValueError(f"{label} is not a valid JSON Schema: {exc.message}") from None
            if schema.get("type") != "object":
                raise ValueError(f"{label} must describe an object")
        return self

    @property
    def side_effects(self) -> bool:
        return bool(self.effects)

    @property
    def required_inputs(self) -> list[str]:
        required = self.inputs.get("required", [])
        return [r for r in required if isinstance(r, str)]

    @property
    def input_properties(self) -> dict[str, Any]:
        props = self.inputs.get("properties", {})
        return props if isinstance(props, dict) else {}

    def text_for_structures(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """`inputs` with an object or list given for a text-only input written as JSON text.

        A reference may point at structured data (a trigger's event, an earlier step's object)
        where the agent wants text, as in "summarize this GitHub issue": the data as JSON is
        the faithful text of it, where refusing would fail a plan a person finds reasonable.
        """
        converted = dict(inputs)
        for name, value in inputs.items():
            prop = self.input_properties.get(name)
            if isinstance(value, dict | list) and isinstance(prop, dict) and _text_only(prop):
                converted[name] = json.dumps(value, ensure_ascii=False, default=str)
        return converted

    def with_defaults(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """`inputs` plus the schema's defaults for what is not given (rules read these)."""
        filled = dict(inputs)
        for name, prop in self.input_properties.items():
            if name not in filled and isinstance(prop, dict) and "default" in prop:
                filled[name] = prop["default"]
        return filled

    @property
    def output_properties(self) -> dict[str, Any]:
        props = self.outputs.get("properties", {})
        return props if isinstance(props, dict) else {}

    def asks_approval(self) -> bool:
        if self.checkpoint.mode is CheckpointMode.NEVER:
            return False
        return (
            self.checkpoint.mode is CheckpointMode.ALWAYS
            or self.risk is Risk.HIGH
            or self.side_effects
        )


class AgentRegistry:
    """The agents one organisation can use (built-in and its own), by name."""

    def __init__(self, agents: dict[str, AgentSpec]) -> None:
        self._agents = agents

    def get(self, name: str) -> AgentSpec | None:
        return self._agents.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._agents

    def names(self) -> list[str]:
        return sorted(self._agents)

    def all(self) -> list[AgentSpec]:
        return [self._agents[n] for n in self.names()]
