"""What one orchestration cycle knows about a task: loaded from PostgreSQL, decided on, written.

Plain objects, mutated only through `Cycle`, which records every change so the adapter writes
exactly what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts.envelope import Actor, ErrorV1
from contracts.tentacle.checkpoints import CheckpointStatus, CheckpointV1
from contracts.tentacle.models import (
    StepStatus,
    TaskConstraintsV1,
    TaskStatus,
    TerminalReason,
)
from contracts.tentacle.plans import FailurePolicy, PlanStepV1, PlanV1


@dataclass
class StepState:
    step_id: str
    agent: str
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    output: Any = None
    error: ErrorV1 | None = None
    tolerated: bool = False
    cleared: dict[str, Any] | None = None
    """Set once a checkpoint approved the step: {"checkpoint_id", "override": {...}}."""
    call_id: str | None = None
    parent_call_id: str | None = None
    root_call_id: str | None = None
    cost_usd: Decimal = Decimal(0)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def done(self) -> bool:
        """Counts as finished for the steps that wait for it."""
        return self.status is StepStatus.COMPLETED or (
            self.status is StepStatus.FAILED and self.tolerated
        )

    @property
    def open(self) -> bool:
        return self.status in (StepStatus.PENDING, StepStatus.WAITING, StepStatus.RUNNING)


@dataclass
class CheckpointState:
    view: CheckpointV1
    """The whole checkpoint as callers see it; replaced (frozen model) when it changes."""

    @property
    def pending(self) -> bool:
        return self.view.status is CheckpointStatus.PENDING


@dataclass
class TaskState:
    task_id: str
    org_id: str
    status: TaskStatus
    goal: str
    created_by: Actor
    constraints: TaskConstraintsV1
    context: dict[str, Any]
    event_seq: int
    call_id: str
    root_call_id: str
    budget_usd: Decimal
    conversation_id: str | None = None
    parent_task_id: str | None = None
    paused_from: TaskStatus | None = None
    plan_version: int = 0
    plan: PlanV1 | None = None
    plan_why: str | None = None
    steps: dict[str, StepState] = field(default_factory=dict)
    checkpoints: dict[str, CheckpointState] = field(default_factory=dict)
    """Pending checkpoints, and those of the current plan version."""
    replan_count: int = 0
    terminal_reason: TerminalReason | None = None
    error: ErrorV1 | None = None
    result: Any = None
    summary: str | None = None
    fast_path: bool = False
    finished_at: datetime | None = None
    auto_approved: frozenset[str] = frozenset()
    """Preference keys the task's creator has learned to approve automatically."""
    version: int = 0
    """The task row's version this state was read at; a write succeeds only against it."""
    has_queued: bool = False
    """Goals were enqueued behind this task (started when it finishes)."""

    def spec(self, step_id: str) -> PlanStepV1:
        assert self.plan is not None
        for step in self.plan.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def policy_of(self, step_id: str) -> FailurePolicy:
        assert self.plan is not None
        spec = self.spec(step_id)
        if spec.parallel_group is not None:
            for other in self.plan.steps:
                if other.parallel_group == spec.parallel_group and other.failure_policy:
                    return other.failure_policy
        return spec.failure_policy or self.plan.failure_policy

    def group_of(self, step_id: str) -> list[str]:
        assert self.plan is not None
        group = self.spec(step_id).parallel_group
        if group is None:
            return [step_id]
        return [s.id for s in self.plan.steps if s.parallel_group == group]

    def pending_checkpoints(self) -> list[CheckpointState]:
        return [c for c in self.checkpoints.values() if c.pending]
