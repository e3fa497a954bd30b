"""One orchestration cycle: the state it started from and every change decided on it.

The domain functions mutate the state only through a `Cycle`; the adapter then writes the
changed rows, appends the events with consecutive sequence numbers and stages the messages, all
in the transaction that holds the task's row lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.tentacle.checkpoints import CheckpointV1
from contracts.tentacle.events import TaskEventDetailV1, TaskEventKind
from contracts.tentacle.models import AdvanceReason, StepStatus, TaskStatus
from tentacle.domain.lifecycle import check_transition
from tentacle.domain.state import CheckpointState, StepState, TaskState


@dataclass(frozen=True, slots=True)
class NewEvent:
    kind: TaskEventKind
    status: TaskStatus
    detail: TaskEventDetailV1
    at: datetime


@dataclass(frozen=True, slots=True)
class Dispatch:
    step_id: str
    agent: str
    attempt: int
    plan_version: int
    inputs: dict[str, Any]


@dataclass
class Cycle:
    state: TaskState
    now: datetime
    events: list[NewEvent] = field(default_factory=list)
    dirty_steps: set[str] = field(default_factory=set)
    new_plan: bool = False
    """A new plan version was written: every step row of it is new."""
    dirty_checkpoints: set[str] = field(default_factory=set)
    new_checkpoints: set[str] = field(default_factory=set)
    dispatches: list[Dispatch] = field(default_factory=list)
    undos: list[Dispatch] = field(default_factory=list)
    """Completed steps whose effects are undone (a rollback): run once each, recorded nowhere
    but the journal."""
    advance: AdvanceReason | None = None
    task_changed: bool = False

    # ---------------------------------------------------------------- events and status
    def emit(self, detail: TaskEventDetailV1) -> None:
        self.events.append(
            NewEvent(TaskEventKind(detail.kind), self.state.status, detail, self.now)
        )
        self.task_changed = True

    def transition(self, target: TaskStatus, detail: TaskEventDetailV1) -> None:
        check_transition(self.state.status, target)
        self.state.status = target
        self.emit(detail)

    @property
    def changed(self) -> bool:
        return bool(
            self.task_changed
            or self.dirty_steps
            or self.dirty_checkpoints
            or self.dispatches
            or self.undos
            or self.advance
        )

    # ---------------------------------------------------------------- steps
    def step(self, step_id: str) -> StepState:
        return self.state.steps[step_id]

    def update_step(self, step_id: str, **changes: Any) -> StepState:
        step = self.state.steps[step_id]
        for name, value in changes.items():
            setattr(step, name, value)
        self.dirty_steps.add(step_id)
        return step

    def dispatch(self, step_id: str, inputs: dict[str, Any]) -> Dispatch:
        step = self.update_step(
            step_id,
            status=StepStatus.RUNNING,
            attempts=self.state.steps[step_id].attempts + 1,
            started_at=self.now,
            finished_at=None,
            error=None,
        )
        job = Dispatch(step_id, step.agent, step.attempts, self.state.plan_version, inputs)
        self.dispatches.append(job)
        return job

    def undo(self, step_id: str, inputs: dict[str, Any]) -> None:
        step = self.state.steps[step_id]
        self.undos.append(
            Dispatch(step_id, step.agent, step.attempts, self.state.plan_version, inputs)
        )

    def close_open_steps(self) -> None:
        """The task stops: whatever did not finish is skipped (late results are ignored)."""
        for step in self.state.steps.values():
            if step.open:
                self.update_step(step.step_id, status=StepStatus.SKIPPED, finished_at=self.now)

    # ---------------------------------------------------------------- checkpoints
    def add_checkpoint(self, view: CheckpointV1) -> None:
        self.state.checkpoints[view.checkpoint_id] = CheckpointState(view)
        self.new_checkpoints.add(view.checkpoint_id)

    def update_checkpoint(self, checkpoint_id: str, **changes: Any) -> CheckpointV1:
        holder = self.state.checkpoints[checkpoint_id]
        holder.view = holder.view.model_copy(update=changes)
        if checkpoint_id not in self.new_checkpoints:
            self.dirty_checkpoints.add(checkpoint_id)
        return holder.view

    # ---------------------------------------------------------------- task
    def set_task(self, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(self.state, name, value)
        self.task_changed = True

    def request_advance(self, reason: AdvanceReason) -> None:
        self.advance = reason
