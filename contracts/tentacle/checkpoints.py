"""Checkpoints: a task stops before a risky or underspecified step until a person answers.

Each type has its own typed response; any checkpoint can also be declined with an
`ApprovalResponseV1(approved=False)`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, JsonValue, model_validator

from contracts.envelope import Actor
from contracts.ids import SubjectToken
from contracts.model import ContractModel
from contracts.tentacle.plans import CheckpointType, InputFieldV1, InputName, QuestionV1, StepId


class CheckpointStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    """Approved or answered (by a person, a learned preference, or the default on expiry)."""
    REJECTED = "rejected"
    EXPIRED = "expired"
    """Nobody answered in time; `default_action` was applied."""
    CANCELLED = "cancelled"
    """The task ended (cancelled, superseded) while it waited."""


class DefaultAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ApprovalResponseV1(ContractModel):
    type: Literal["approval"] = "approval"
    approved: bool
    feedback: str | None = Field(default=None, max_length=4000)
    remember: bool = Field(
        default=False,
        description="Approve operations of this kind automatically from now on (revocable).",
    )

    @model_validator(mode="after")
    def _feedback_on_rejection(self) -> Self:
        if not self.approved and not (self.feedback or "").strip():
            raise ValueError("a rejection needs feedback saying why")
        return self


class InputResponseV1(ContractModel):
    type: Literal["input"] = "input"
    values: dict[InputName, JsonValue] = Field(max_length=30)


class ModifyResponseV1(ContractModel):
    type: Literal["modify"] = "modify"
    inputs: dict[InputName, JsonValue] = Field(
        max_length=50, description="The step's inputs as they should be (replacing the planned)."
    )


class SelectResponseV1(ContractModel):
    type: Literal["select"] = "select"
    choice: str = Field(min_length=1, max_length=200)


class QaResponseV1(ContractModel):
    type: Literal["qa"] = "qa"
    answers: dict[InputName, Annotated[str, Field(max_length=4000)]] = Field(max_length=20)


CheckpointResponseV1 = Annotated[
    ApprovalResponseV1 | InputResponseV1 | ModifyResponseV1 | SelectResponseV1 | QaResponseV1,
    Field(discriminator="type"),
]


class CheckpointV1(ContractModel):
    checkpoint_id: SubjectToken
    task_id: SubjectToken
    step_id: StepId
    plan_version: int
    agent: str
    type: CheckpointType
    status: CheckpointStatus
    title: str
    message: str = ""
    reasons: list[str] = Field(
        default_factory=list, description="Why it stops: sends a message, external call, ..."
    )
    preview: dict[str, JsonValue] = Field(
        default_factory=dict, description="The step's inputs as they would be sent."
    )
    options: list[str] = Field(default_factory=list)
    questions: list[QuestionV1] = Field(default_factory=list)
    fields: list[InputFieldV1] = Field(default_factory=list)
    preference_key: str = Field(description="The kind of operation, for learned approvals.")
    default_action: DefaultAction
    expires_at: datetime
    response: CheckpointResponseV1 | None = None
    auto: bool = Field(default=False, description="Resolved by a learned preference or expiry.")
    resolved_by: Actor | None = None
    created_at: datetime
    resolved_at: datetime | None = None


class RespondCheckpointV1(ContractModel):
    task_id: SubjectToken
    checkpoint_id: SubjectToken
    response: CheckpointResponseV1


class ListCheckpointsV1(ContractModel):
    """Pending checkpoints of the organisation (optionally of one conversation)."""

    conversation_id: SubjectToken | None = None
    limit: int = Field(default=50, ge=1, le=200)


class CheckpointListV1(ContractModel):
    checkpoints: list[CheckpointV1]


# ---------------------------------------------------------------------- learned preferences
class PreferenceV1(ContractModel):
    key: str
    actor: Actor
    approvals: int
    score: float = Field(description="Approvals decayed by age; auto-approves at the threshold.")
    auto_approve: bool
    last_approved_at: datetime | None = None
    revoked_at: datetime | None = None


class ListPreferencesV1(ContractModel):
    include_revoked: bool = False


class PreferenceListV1(ContractModel):
    preferences: list[PreferenceV1]


class RevokePreferenceV1(ContractModel):
    key: str = Field(min_length=1, max_length=300)
