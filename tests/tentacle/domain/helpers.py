"""Building blocks for domain tests: a small registry and a task state to decide on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from contracts.envelope import Actor, ActorKind
from contracts.tentacle.models import TaskConstraintsV1, TaskStatus
from contracts.tentacle.plans import PlanStepV1, PlanV1
from tentacle.domain.agents import AgentRegistry, AgentSpec
from tentacle.domain.cycle import Cycle
from tentacle.domain.decide import apply_plan
from tentacle.domain.state import TaskState

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
USER = Actor(kind=ActorKind.USER, id="u-1")


def agent(name: str, **values: Any) -> AgentSpec:
    base: dict[str, Any] = {"name": name, "description": f"the {name} agent", "runtime": "noop"}
    base.update(values)
    return AgentSpec.model_validate(base)


REGISTRY = AgentRegistry(
    {
        "noop": agent("noop"),
        "fetch": agent(
            "fetch",
            runtime="http_fetch",
            inputs={
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": {"type": "string"},
                    "method": {"type": "string", "default": "GET"},
                },
                "additionalProperties": False,
            },
            effects=[
                {
                    "category": "external_call",
                    "reason": "changes something elsewhere",
                    "when": {"input": "method", "not_in": ["GET", "HEAD"]},
                }
            ],
        ),
        "mail": agent(
            "mail",
            runtime="notify",
            inputs={"type": "object", "required": ["to"], "properties": {"to": {"type": "string"}}},
            effects=[{"category": "send_message", "reason": "sends a message"}],
        ),
    }
)


def step(step_id: str, agent_name: str = "noop", **values: Any) -> PlanStepV1:
    return PlanStepV1.model_validate({"id": step_id, "agent": agent_name, **values})


def plan(*steps: PlanStepV1, **values: Any) -> PlanV1:
    return PlanV1.model_validate({"steps": [s.model_dump() for s in steps], **values})


def task(**values: Any) -> TaskState:
    base: dict[str, Any] = {
        "task_id": "t-1",
        "org_id": "acme",
        "status": TaskStatus.PLANNING,
        "goal": "do things",
        "created_by": USER,
        "constraints": TaskConstraintsV1(),
        "context": {},
        "event_seq": 1,
        "call_id": "c-1",
        "root_call_id": "c-1",
        "budget_usd": Decimal(1),
    }
    base.update(values)
    return TaskState(**base)


def planned(p: PlanV1, why: str = "initial", **values: Any) -> TaskState:
    state = task(**values)
    apply_plan(Cycle(state, NOW), p, why=why)
    return state
