"""The plan document: what a task will do, step by step, as the planner (or a caller) wrote it.

A plan is data, persisted as JSONB and versioned per task; the orchestrator reloads it every
cycle. A step's input may be a literal JSON value or a reference to an earlier output::

    {"$ref": "fetch.text"}       the field `text` of step `fetch`'s output
    {"$ref": "fetch"}            the whole output of `fetch`
    {"$ref": "$context.event"}   a value the caller passed with the task (`CreateTaskV1.context`)

A reference makes the step depend on the referenced one; `depends_on` adds ordering without data.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import Field, JsonValue, StringConstraints

from contracts.model import ContractModel

REF_KEY: Final = "$ref"
CONTEXT_REF: Final = "$context"

StepId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,47}$")]
"""A step's name within its plan: lowercase, also usable in keys (`task:step:attempt`)."""

AgentName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,47}$")]

GroupName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,47}$")]

InputName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]

MAX_STEPS: Final = 50


class FailurePolicy(StrEnum):
    """What a failed step does to its parallel group (and a step outside groups to the task)."""

    FAIL_FAST = "fail_fast"
    """The first final failure fails the group at once; siblings still running are ignored."""
    ALL_OR_NOTHING = "all_or_nothing"
    """The group waits for every sibling, then fails as a whole if any failed."""
    BEST_EFFORT = "best_effort"
    """Failures are tolerated: the step counts as done with no output (references read null)."""


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    """Always asks for approval before running (unless the user pre-approved such steps)."""


class CheckpointType(StrEnum):
    APPROVAL = "approval"
    """Yes or no before the step runs."""
    INPUT = "input"
    """The user supplies values (fields) merged into the step's inputs."""
    MODIFY = "modify"
    """The user may edit the step's inputs before it runs."""
    SELECT = "select"
    """The user picks one of `options`; the choice is passed as input `selection`."""
    QA = "qa"
    """The user answers `questions`; answers are passed as input `answers`."""


class InputFieldV1(ContractModel):
    name: InputName
    label: str = Field(default="", max_length=200)
    kind: str = Field(default="string", pattern=r"^(string|number|integer|boolean)$")
    required: bool = True


class QuestionV1(ContractModel):
    id: InputName
    text: str = Field(min_length=1, max_length=1000)


class StepCheckpointV1(ContractModel):
    """A checkpoint the plan asks for before a step (rules may add approvals of their own)."""

    type: CheckpointType = CheckpointType.APPROVAL
    title: str = Field(default="", max_length=200)
    message: str = Field(default="", max_length=4000)
    options: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50, description="For select."
    )
    questions: list[QuestionV1] = Field(default_factory=list, max_length=20, description="For qa.")
    fields: list[InputFieldV1] = Field(
        default_factory=list, max_length=30, description="For input."
    )


class PlanStepV1(ContractModel):
    id: StepId
    agent: AgentName
    description: str = Field(default="", max_length=1000)
    inputs: dict[InputName, JsonValue] = Field(default_factory=dict, max_length=50)
    depends_on: list[StepId] = Field(default_factory=list, max_length=MAX_STEPS)
    parallel_group: GroupName | None = Field(
        default=None, description="Steps of one group run concurrently and share a policy."
    )
    failure_policy: FailurePolicy | None = Field(
        default=None, description="The group's policy (the plan's default when unset)."
    )
    risk: Risk = Risk.LOW
    checkpoint: StepCheckpointV1 | None = None


class PlanV1(ContractModel):
    steps: list[PlanStepV1] = Field(min_length=1, max_length=MAX_STEPS)
    rationale: str = Field(default="", max_length=4000)
    failure_policy: FailurePolicy = FailurePolicy.FAIL_FAST
    max_parallel: int | None = Field(default=None, ge=1, le=32)
