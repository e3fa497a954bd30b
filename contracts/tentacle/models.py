"""Message models of tentacle's tasks. Frozen, versioned in the class name; `subjects.py` says
where each travels, `events.py` holds the lifecycle event, `plans.py` the plan document and
`checkpoints.py` checkpoints and learned preferences.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, JsonValue, StringConstraints

from contracts.envelope import Actor, ErrorV1
from contracts.ids import OrgId, SubjectToken
from contracts.model import ContractModel
from contracts.tentacle.checkpoints import CheckpointV1
from contracts.tentacle.plans import (
    AgentName,
    FailurePolicy,
    GroupName,
    InputName,
    PlanV1,
    Risk,
    StepId,
)

_ID_NAMESPACE = uuid.UUID("0d7a1c52-3b8e-4f61-9c1e-74656e746163")

Money = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=18, decimal_places=8)]


def task_id_for(org_id: str, request_id: str) -> str:
    """The id of the task created with `request_id`, known to the caller before it asks (so a
    trigger can subscribe to its events first, and a retried create finds the same task)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"task\x00{org_id}\x00{request_id}"))


class TaskStatus(StrEnum):
    PLANNING = "planning"
    READY = "ready"
    EXECUTING = "executing"
    CHECKPOINT = "checkpoint"
    """Waiting for a person to answer a checkpoint."""
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


class TerminalReason(StrEnum):
    """Why a task stopped; the failure reasons match the error codes of `errors.py`."""

    COMPLETED = "completed"
    STEP_FAILED = "step_failed"
    REPLANS_EXHAUSTED = "replans_exhausted"
    PLANNING_FAILED = "planning_failed"
    BUDGET_EXCEEDED = "budget_exceeded"
    CHECKPOINT_REJECTED = "checkpoint_rejected"
    CHECKPOINT_EXPIRED = "checkpoint_expired"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    STEP_LOST = "step_lost"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


class StepStatus(StrEnum):
    PENDING = "pending"
    WAITING = "waiting"
    """Held at a checkpoint."""
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not run: the task ended first, or a replan dropped it."""


class SupersedePolicy(StrEnum):
    REJECT = "reject"
    """Keep the running task; the new goal is refused (`tentacle.supersede_rejected`)."""
    ENQUEUE = "enqueue"
    """Let the running task finish, then start the new goal as a new task."""
    INTERRUPT = "interrupt"
    """Stop now; the new task continues from what the old one completed."""
    ROLLBACK = "rollback"
    """Stop now; the new task starts clean, what can be undone is (a saved file is trashed),
    and the old task's irreversible steps are listed."""


class TaskConstraintsV1(ContractModel):
    notes: str = Field(default="", max_length=2000, description="Instructions for the planner.")
    max_parallel: int | None = Field(default=None, ge=1, le=32)
    deadline: AwareDatetime | None = Field(
        default=None, description="Fail with deadline_exceeded if not finished by then."
    )
    auto_approve: bool = Field(
        default=False, description="The creator approves every checkpoint of this task upfront."
    )
    allow_fast_path: bool = True


# ---------------------------------------------------------------------- commands
class CreateTaskV1(ContractModel):
    """Create a task. The same `request_id` always means the same task (see `task_id_for`)."""

    request_id: SubjectToken
    goal: str = Field(min_length=1, max_length=4000)
    constraints: TaskConstraintsV1 = Field(default_factory=TaskConstraintsV1)
    budget_usd: Money | None = Field(default=None, description="Task budget; a default if unset.")
    conversation_id: SubjectToken | None = None
    parent_task_id: SubjectToken | None = None
    context: dict[InputName, JsonValue] = Field(
        default_factory=dict,
        max_length=50,
        description='Values steps read as {"$ref": "$context.<name>"} (e.g. a trigger event).',
    )
    plan: PlanV1 | None = Field(
        default=None, description="A ready plan (a saved workflow): validated, never re-planned."
    )


class TaskRefV1(ContractModel):
    task_id: SubjectToken


class PauseTaskV1(ContractModel):
    task_id: SubjectToken
    reason: str = Field(default="", max_length=1000)


class ResumeTaskV1(ContractModel):
    task_id: SubjectToken


class CancelTaskV1(ContractModel):
    task_id: SubjectToken
    reason: str = Field(default="", max_length=1000)


class RetryTaskV1(ContractModel):
    task_id: SubjectToken
    budget_usd: Money | None = Field(default=None, description="A new task budget, if raised.")


class SupersedeTaskV1(ContractModel):
    task_id: SubjectToken
    request_id: SubjectToken = Field(description="Request id of the new task.")
    goal: str = Field(min_length=1, max_length=4000)
    policy: SupersedePolicy
    constraints: TaskConstraintsV1 | None = None
    budget_usd: Money | None = None


class AdvanceReason(StrEnum):
    CREATED = "created"
    RESUMED = "resumed"
    REPLAN = "replan"
    CHECKPOINT = "checkpoint"
    RETRY = "retry"
    TIMER = "timer"
    RECOVERY = "recovery"


class AdvanceTaskV1(ContractModel):
    """Internal work item: run one orchestration cycle of a task."""

    task_id: SubjectToken
    reason: AdvanceReason


class StepRunV1(ContractModel):
    """Internal work item: run one attempt of one step on an agent worker.

    `agent_type` is the worker pool (the agent's name for built-in agents; `custom` for
    organisations' own prompt-defined agents). `idempotency_key` is the same for every
    redelivery of this attempt: side effects are journalled and passed on under it.
    """

    task_id: SubjectToken
    step_id: StepId
    plan_version: int = Field(ge=1)
    attempt: int = Field(ge=1)
    agent: AgentName
    agent_type: SubjectToken
    idempotency_key: str = Field(max_length=200)
    inputs: dict[str, JsonValue] = Field(default_factory=dict)
    task_version: int | None = Field(
        default=None,
        ge=0,
        description="The task's version when this attempt was dispatched: a worker whose "
        "cached copy of the task is older reloads it first.",
    )
    undo: bool = Field(
        default=False,
        description="Undo what this completed step did (a rollback): `inputs` are the undoing "
        "call's; nothing is recorded on the step, the journal holds the outcome.",
    )


# ---------------------------------------------------------------------- queries
class GetTaskV1(ContractModel):
    task_id: SubjectToken
    include_outputs: bool = True


class ListTasksV1(ContractModel):
    statuses: list[TaskStatus] = Field(default_factory=list, max_length=9)
    conversation_id: SubjectToken | None = None
    parent_task_id: SubjectToken | None = None
    before: datetime | None = Field(default=None, description="Only tasks created earlier.")
    limit: int = Field(default=50, ge=1, le=200)


class SearchTasksV1(ContractModel):
    query: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    statuses: list[TaskStatus] = Field(default_factory=list, max_length=9)
    limit: int = Field(default=20, ge=1, le=100)


class ListTaskEventsV1(ContractModel):
    """The lifecycle log of a task, to catch up after a gap (events are numbered 1..n)."""

    task_id: SubjectToken
    after_seq: int = Field(default=0, ge=0)
    limit: int = Field(default=200, ge=1, le=1000)


# ---------------------------------------------------------------------- replies
class TaskV1(ContractModel):
    task_id: SubjectToken
    org_id: OrgId
    request_id: str
    goal: str
    status: TaskStatus
    terminal_reason: TerminalReason | None = None
    error: ErrorV1 | None = None
    constraints: TaskConstraintsV1
    budget_usd: Decimal
    spent_usd: Decimal
    conversation_id: str | None = None
    parent_task_id: str | None = None
    created_by: Actor
    fast_path: bool = Field(default=False, description="Answered from workspace objects.")
    replan_count: int = 0
    plan_version: int = 0
    event_seq: int = Field(description="Sequence number of the latest lifecycle event.")
    steps_total: int = 0
    steps_done: int = 0
    result: JsonValue = Field(default=None, description="The final output, once completed.")
    summary: str | None = None
    call_id: str
    root_call_id: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None


class PlanRecordV1(ContractModel):
    version: int
    why: str = Field(description="initial, supplied, repair, replan")
    document: PlanV1
    created_at: datetime


class StepV1(ContractModel):
    step_id: StepId
    plan_version: int
    agent: AgentName
    description: str = ""
    status: StepStatus
    attempts: int
    depends_on: list[StepId] = Field(default_factory=list)
    parallel_group: GroupName | None = None
    failure_policy: FailurePolicy | None = None
    risk: Risk = Risk.LOW
    output: JsonValue = None
    error: ErrorV1 | None = None
    cost_usd: Decimal = Decimal(0)
    call_id: str | None = None
    parent_call_id: str | None = None
    root_call_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class TaskDetailV1(ContractModel):
    task: TaskV1
    plan: PlanRecordV1 | None = None
    steps: list[StepV1] = Field(default_factory=list)
    checkpoints: list[CheckpointV1] = Field(default_factory=list)


class TaskListV1(ContractModel):
    tasks: list[TaskV1]


class SupersedeResultV1(ContractModel):
    policy: SupersedePolicy
    task: TaskV1 = Field(description="The superseded (or, when enqueued, still running) task.")
    new_task_id: str
    new_task: TaskV1 | None = Field(default=None, description="Unless enqueued.")
    irreversible_steps: list[StepId] = Field(
        default_factory=list,
        description="Rollback: steps whose effects outside stay (done, or in flight and maybe"
        " done): a POST made or an email sent; not a GET or a read.",
    )
    undone_steps: list[StepId] = Field(
        default_factory=list,
        description="Rollback: completed steps whose effects are being undone (a saved file "
        "goes to the trash).",
    )


# ---------------------------------------------------------------------- cost and call tree
class CallKind(StrEnum):
    TASK = "task"
    STEP = "step"
    LLM = "llm"
    TOOL = "tool"


class CallNodeV1(ContractModel):
    call_id: str
    parent_call_id: str | None = None
    root_call_id: str
    kind: CallKind
    name: str = Field(description="Agent, model or tool.")
    step_id: str | None = None
    cost_usd: Decimal = Decimal(0)
    at: datetime | None = None


class TaskCostV1(ContractModel):
    task_id: SubjectToken
    root_call_id: str
    total_usd: Decimal
    reserved_usd: Decimal = Field(description="Held by calls still in flight.")
    by_agent: dict[str, Decimal]
    by_step: dict[str, Decimal]
    calls: list[CallNodeV1]


# ---------------------------------------------------------------------- capabilities
class CapabilityKind(StrEnum):
    AGENT = "agent"
    PRIMITIVE = "primitive"
    PLUGIN = "plugin"


class ListCapabilitiesV1(ContractModel):
    kind: CapabilityKind | None = None
    domain: Annotated[str, StringConstraints(max_length=64)] | None = None
    query: Annotated[str, StringConstraints(max_length=200)] | None = None
    detail: bool = Field(default=False, description="Include input and output schemas.")


class CapabilityV1(ContractModel):
    name: AgentName
    kind: CapabilityKind
    domain: str
    description: str
    builtin: bool
    risk: Risk
    side_effects: bool
    asks_approval: bool = Field(description="Pauses for approval by configuration or rules.")
    task_type: str | None = None
    input_schema: dict[str, JsonValue] | None = None
    output_schema: dict[str, JsonValue] | None = None


class CapabilityListV1(ContractModel):
    capabilities: list[CapabilityV1]


class RegisterAgentV1(ContractModel):
    """An organisation's own agent, as YAML (the format of the built-in `tentacle/agents/`).
    Only prompt-defined agents (runtime `llm`) can be registered this way."""

    yaml: str = Field(min_length=1, max_length=100_000)
