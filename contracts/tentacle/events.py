"""The task lifecycle event: one subject per task, numbered 1..n without gaps.

Every state transition and every step event of a task is published on
`tentacle.v1.evt.task.{org_id}.{task_id}.{kind}.progressed` as a `TaskEventV1`. One stream keeps
one task's events in order for every consumer, whatever kinds it filters; `seq` lets a consumer
notice a gap and fill it with `tentacle.v1.rpc.task.events`. `kind` says what happened and
chooses the model of `detail`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, JsonValue, model_validator

from contracts.envelope import Actor, ErrorV1
from contracts.ids import OrgId, SubjectToken
from contracts.model import ContractModel
from contracts.tentacle.checkpoints import CheckpointStatus, CheckpointV1
from contracts.tentacle.models import (
    SupersedePolicy,
    TaskConstraintsV1,
    TaskStatus,
    TerminalReason,
)
from contracts.tentacle.plans import StepId


class TaskEventKind(StrEnum):
    TASK_CREATED = "task_created"
    PLANNED = "planned"
    STARTED = "started"
    STEP_STARTED = "step_started"
    STEP_COMPLETED = "step_completed"
    STEP_FAILED = "step_failed"
    CHECKPOINT_REQUESTED = "checkpoint_requested"
    CHECKPOINT_RESOLVED = "checkpoint_resolved"
    PAUSED = "paused"
    RESUMED = "resumed"
    REPLANNED = "replanned"
    RETRIED = "retried"
    GOAL_QUEUED = "goal_queued"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


class StepSummaryV1(ContractModel):
    step_id: StepId
    agent: str
    description: str = ""
    depends_on: list[StepId] = Field(default_factory=list)
    parallel_group: str | None = None


class TaskCreatedDetailV1(ContractModel):
    kind: Literal["task_created"] = "task_created"
    goal: str
    request_id: str
    constraints: TaskConstraintsV1
    budget_usd: Decimal
    created_by: Actor
    plan_supplied: bool = False


class PlannedDetailV1(ContractModel):
    kind: Literal["planned"] = "planned"
    plan_version: int
    why: str = Field(description="initial, supplied, repair or replan")
    steps: list[StepSummaryV1]
    rationale: str = ""
    repairs: int = Field(default=0, description="Invalid plans the planner had to fix first.")
    model: str | None = None
    offline: bool = False


class StartedDetailV1(ContractModel):
    kind: Literal["started"] = "started"
    plan_version: int


class StepStartedDetailV1(ContractModel):
    kind: Literal["step_started"] = "step_started"
    step_id: StepId
    agent: str
    attempt: int
    plan_version: int
    description: str = ""
    call_id: str | None = None


class StepCompletedDetailV1(ContractModel):
    kind: Literal["step_completed"] = "step_completed"
    step_id: StepId
    agent: str
    attempt: int
    plan_version: int
    preview: str = Field(default="", description="The output, shortened for a message line.")
    cost_usd: Decimal = Decimal(0)


class StepFailedDetailV1(ContractModel):
    kind: Literal["step_failed"] = "step_failed"
    step_id: StepId
    agent: str
    attempt: int
    plan_version: int
    error: ErrorV1
    tolerated: bool = Field(default=False, description="best_effort: the task carries on.")


class CheckpointRequestedDetailV1(ContractModel):
    kind: Literal["checkpoint_requested"] = "checkpoint_requested"
    checkpoint: CheckpointV1


class CheckpointResolvedDetailV1(ContractModel):
    kind: Literal["checkpoint_resolved"] = "checkpoint_resolved"
    checkpoint_id: str
    step_id: StepId
    status: CheckpointStatus
    auto: bool = False
    by: Actor | None = None
    feedback: str | None = None


class PausedDetailV1(ContractModel):
    kind: Literal["paused"] = "paused"
    reason: str = ""
    by: Actor


class ResumedDetailV1(ContractModel):
    kind: Literal["resumed"] = "resumed"
    by: Actor


class ReplannedDetailV1(ContractModel):
    kind: Literal["replanned"] = "replanned"
    replan: int = Field(description="How many replans this task has made, this one included.")
    failed_step_id: StepId | None = None
    error: ErrorV1 | None = None


class RetriedDetailV1(ContractModel):
    kind: Literal["retried"] = "retried"
    by: Actor
    steps_reset: list[StepId] = Field(default_factory=list)


class GoalQueuedDetailV1(ContractModel):
    kind: Literal["goal_queued"] = "goal_queued"
    goal: str
    new_task_id: str
    by: Actor


class CompletedDetailV1(ContractModel):
    kind: Literal["completed"] = "completed"
    summary: str | None = None
    result: JsonValue = None
    fast_path: bool = False
    cost_usd: Decimal = Decimal(0)


class FailedDetailV1(ContractModel):
    kind: Literal["failed"] = "failed"
    reason: TerminalReason
    error: ErrorV1


class CancelledDetailV1(ContractModel):
    kind: Literal["cancelled"] = "cancelled"
    reason: str = ""
    by: Actor


class SupersededDetailV1(ContractModel):
    kind: Literal["superseded"] = "superseded"
    policy: SupersedePolicy
    new_task_id: str
    goal: str
    by: Actor
    irreversible_steps: list[StepId] = Field(default_factory=list)
    undone_steps: list[StepId] = Field(default_factory=list)


TaskEventDetailV1 = Annotated[
    TaskCreatedDetailV1
    | PlannedDetailV1
    | StartedDetailV1
    | StepStartedDetailV1
    | StepCompletedDetailV1
    | StepFailedDetailV1
    | CheckpointRequestedDetailV1
    | CheckpointResolvedDetailV1
    | PausedDetailV1
    | ResumedDetailV1
    | ReplannedDetailV1
    | RetriedDetailV1
    | GoalQueuedDetailV1
    | CompletedDetailV1
    | FailedDetailV1
    | CancelledDetailV1
    | SupersededDetailV1,
    Field(discriminator="kind"),
]


class TaskEventV1(ContractModel):
    org_id: OrgId
    task_id: SubjectToken
    seq: int = Field(ge=1, description="1, 2, 3, ... per task, without gaps.")
    kind: TaskEventKind
    status: TaskStatus = Field(description="The task's status after this event.")
    conversation_id: str | None = None
    parent_task_id: str | None = None
    occurred_at: datetime
    detail: TaskEventDetailV1

    @model_validator(mode="after")
    def _kind_matches(self) -> Self:
        if self.detail.kind != self.kind:
            raise ValueError(f"kind {self.kind} but detail of {self.detail.kind}")
        return self


class TaskEventListV1(ContractModel):
    events: list[TaskEventV1]
