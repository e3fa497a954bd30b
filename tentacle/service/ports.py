"""What the use cases need from the outside world, as small interfaces the adapters implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from contracts.envelope import Actor
from contracts.ids import new_id
from shared.bus.codec import OutboundMessage
from tentacle.domain.agents import AgentSpec
from tentacle.domain.fast_path import FastQuery


@dataclass(frozen=True, slots=True)
class Effect:
    """Where an effect belongs: the attempt of a step, and its node in the call tree."""

    org_id: str
    key: str
    task_id: str
    step_id: str
    plan_version: int
    attempt: int
    tool: str
    call_id: str | None = None
    parent_call_id: str | None = None
    root_call_id: str | None = None
    undo: bool = False
    """Undoing a completed step (a rollback): valid whatever the step's state is now."""

    def params(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "key": self.key,
            "task_id": self.task_id,
            "step_id": self.step_id,
            "tool": self.tool,
            "call_id": self.call_id,
            "parent_call_id": self.parent_call_id,
            "root_call_id": self.root_call_id,
        }


@dataclass(frozen=True, slots=True)
class StepWork:
    """One attempt of one step, as an agent runtime sees it."""

    org_id: str
    task_id: str
    step_id: str
    plan_version: int
    attempt: int
    idempotency_key: str
    agent: AgentSpec
    inputs: dict[str, Any]
    call_id: str
    parent_call_id: str | None
    root_call_id: str
    undo: bool = False
    """The work undoes the completed step (a rollback; see StepRunV1.undo)."""
    actor: Actor | None = None
    """On whose behalf the task runs (what it may read of the organisation's memory)."""

    def effect(self, tool: str) -> Effect:
        """The effect as a node of its own in the execution tree, a child of the step."""
        return Effect(
            org_id=self.org_id,
            key=self.idempotency_key,
            task_id=self.task_id,
            step_id=self.step_id,
            plan_version=self.plan_version,
            attempt=self.attempt,
            tool=tool,
            call_id=new_id(),
            parent_call_id=self.call_id,
            root_call_id=self.root_call_id,
            undo=self.undo,
        )


@dataclass(frozen=True, slots=True)
class StagedEffect:
    """A message the step's result carries out: staged in the outbox with the result, so it is
    published exactly when (and only if) the result is recorded, and journalled alongside."""

    message: OutboundMessage
    effect: Effect
    result: Any


@dataclass(frozen=True, slots=True)
class AgentResult:
    output: Any
    cost_usd: Decimal = Decimal(0)
    staged: list[StagedEffect] = field(default_factory=list)


class AgentRuntime(Protocol):
    async def run(self, work: StepWork) -> AgentResult:
        """The step's output; raise a permanent error to fail it, a transient one to retry."""


class WorkspaceUnavailable(Exception):
    """The workspace cannot answer (not there, not reachable): fall back to planning."""


class WorkspaceQueries(Protocol):
    async def find(self, org_id: str, query: FastQuery) -> list[dict[str, Any]]:
        """Workspace objects matching `query`, at most `query.limit` of them."""


class PromptMemories(Protocol):
    """The organisation's memory block for a task agent's prompt ("" when nothing applies)."""

    async def __call__(self, org_id: str, actor: Actor | None, query: str) -> str: ...
