"""When a step must wait for a person: the plan asks, the agent's configuration says so, or the
platform's rules detect a risky operation (an external call that changes something, a data
mutation, a message sent, a cost over the threshold, a step marked high risk).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contracts.tentacle.plans import CheckpointType, PlanStepV1, Risk
from tentacle.domain.agents import AgentSpec, CheckpointMode


@dataclass(frozen=True, slots=True)
class CheckpointNeed:
    type: CheckpointType
    title: str
    message: str
    reasons: tuple[str, ...]
    preference_key: str
    """The kind of operation: `<agent>:<category>`; approvals of one kind teach preferences."""

    @property
    def approvable_upfront(self) -> bool:
        """Only a plain approval can be given in advance; the others need the person's data."""
        return self.type is CheckpointType.APPROVAL


def checkpoint_need(
    step: PlanStepV1,
    agent: AgentSpec,
    inputs: dict[str, Any],
    *,
    cost_threshold_usd: Decimal,
) -> CheckpointNeed | None:
    filled = agent.with_defaults(inputs)
    reasons: list[str] = []
    categories: list[str] = []
    if agent.checkpoint.mode is not CheckpointMode.NEVER:
        if agent.checkpoint.mode is CheckpointMode.ALWAYS:
            reasons.append(f"{agent.name} always asks first")
        for effect in agent.effects:
            if effect.applies(filled):
                reasons.append(effect.reason)
                categories.append(effect.category.value)
        if step.risk is Risk.HIGH or agent.risk is Risk.HIGH:
            reasons.append("marked high risk")
            categories.append("high_risk")
        if agent.budget.estimated_cost_usd > cost_threshold_usd:
            reasons.append(
                f"may cost about ${agent.budget.estimated_cost_usd}, over ${cost_threshold_usd}"
            )
            categories.append("cost")
    explicit = step.checkpoint
    if explicit is None and not reasons:
        return None
    kind = explicit.type if explicit is not None else agent.checkpoint.type
    if explicit is not None and not reasons:
        reasons.append("the plan asks for it")
    title = (explicit.title if explicit is not None else "") or _title(step, agent)
    message = (explicit.message if explicit is not None else "") or step.description
    category = categories[0] if categories else "confirm"
    return CheckpointNeed(
        type=kind,
        title=title,
        message=message,
        reasons=tuple(reasons),
        preference_key=f"{agent.name}:{category}",
    )


def _title(step: PlanStepV1, agent: AgentSpec) -> str:
    return f"Approve {agent.name} ({step.id})"
