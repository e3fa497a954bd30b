"""The planner: the model turns a goal into a plan document, which is validated before use.

The model (task type `plan`, JSON schema output) sees the goal, the agents the organisation can
use, and on a replan what already ran and what failed. An answer that is not JSON, not a plan,
or a plan that breaks a rule is not executed: the planner is told precisely what is wrong and
asked again (repair); when repairs run out it is asked afresh; when that fails too, planning
has failed. Transient model failures are raised for the consumer's one retry owner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from contracts.envelope import ErrorV1
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.models import StepStatus
from contracts.tentacle.plans import PlanStepV1, PlanV1
from shared.bus.codec import describe
from shared.llm import BudgetScope, ChatRequest
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.state import StepState, TaskState
from tentacle.domain.text import preview
from tentacle.domain.validation import dependencies, validate_plan
from tentacle.service.deps import Deps

PLAN_TASK_TYPE: Final = "plan"
PLANNER: Final = "planner"
PLAN_SCHEMA: Final = PlanV1.model_json_schema()

SYSTEM_PROMPT: Final = """\
You are the planner of fluxos. Turn the user's goal into a plan: a JSON object with "steps",
each step {"id", "agent", "description", "inputs", "depends_on", "parallel_group",
"failure_policy", "risk"}. Use only the agents listed. Step ids are lowercase words. An input is
a literal JSON value or a reference to an earlier output: {"$ref": "<step id>.<field>"} (or
{"$ref": "<step id>"} for the whole output, {"$ref": "$context.<name>"} for a value the task was
given). Referencing a step makes the step wait for it. Steps that may run at the same time share
a parallel_group. Give every agent all its required inputs. Mark steps that change things
outside (sending, posting, deleting) with risk "high". Answer with the JSON object only.
"""


@dataclass(frozen=True, slots=True)
class Planned:
    plan: PlanV1
    why: str
    repairs: int
    model: str
    offline: bool
    carried: dict[str, StepState] = field(default_factory=dict)


class PlanningFailed(Exception):
    def __init__(self, error: ErrorV1) -> None:
        super().__init__(error.message)
        self.error = error


def catalog_text(registry: AgentRegistry) -> str:
    lines = []
    for agent in registry.all():
        required = agent.required_inputs
        optional = [n for n in agent.input_properties if n not in required]
        outputs = list(agent.output_properties)
        lines.append(
            f"- {agent.name}: {agent.description.strip()} "
            f"Inputs: required {required or '[]'}, optional {optional or '[]'}. "
            f"Output fields: {outputs or 'any'}."
        )
    return "\n".join(lines)


def brief(state: TaskState) -> dict[str, Any]:
    """What the planner is told about the task (JSON, so any model and the offline one read it)."""
    facts: dict[str, Any] = {
        "goal": state.goal,
        "notes": state.constraints.notes,
        "context": sorted(state.context),
    }
    if state.replan_count and state.plan is not None:
        facts["replan"] = state.replan_count
        facts["completed"] = [
            {"id": s.step_id, "agent": s.agent, "output": preview(s.output, 500)}
            for s in state.steps.values()
            if s.status is StepStatus.COMPLETED
        ]
        failed = [s for s in state.steps.values() if s.status is StepStatus.FAILED]
        if failed:
            step = failed[0]
            facts["failed"] = {
                "id": step.step_id,
                "agent": step.agent,
                "error": step.error.model_dump(mode="json") if step.error else None,
            }
    return facts


def _parse(
    raw: str, registry: AgentRegistry, state: TaskState
) -> tuple[PlanV1 | None, dict[str, StepState], list[str]]:
    try:
        data = json.loads(raw)
    except ValueError:
        return None, {}, ["the answer is not JSON; answer with one JSON object"]
    try:
        plan = PlanV1.model_validate(data)
    except ValidationError as exc:
        return None, {}, [f"the answer is not a plan: {describe(exc)}"]
    plan, carried = _carry(plan, state)
    problems = validate_plan(plan, registry, context_keys=state.context.keys())
    return plan, carried, [str(p) for p in problems]


def _carry(plan: PlanV1, state: TaskState) -> tuple[PlanV1, dict[str, StepState]]:
    """On a replan, completed steps the new plan builds on are kept (not run again)."""
    if not state.replan_count or state.plan is None:
        return plan, {}
    done = {s.step_id: s for s in state.steps.values() if s.status is StepStatus.COMPLETED}
    ids = {s.id for s in plan.steps}
    wanted: set[str] = set()
    for spec in plan.steps:
        wanted |= {d for d in dependencies(spec) if d not in ids and d in done}
    carried_specs: list[PlanStepV1] = [s for s in state.plan.steps if s.id in wanted]
    kept = {s.id: done[s.id] for s in plan.steps if s.id in done} | {i: done[i] for i in wanted}
    if not carried_specs:
        return plan, kept
    merged = plan.model_copy(update={"steps": [*carried_specs, *plan.steps]})
    return merged, kept


async def make_plan(deps: Deps, state: TaskState, registry: AgentRegistry) -> Planned:
    base = [
        {"role": "system", "content": SYSTEM_PROMPT + "\nAgents:\n" + catalog_text(registry)},
        {"role": "user", "content": json.dumps(brief(state))},
    ]
    scope = BudgetScope(org_id=state.org_id, task_id=state.task_id, agent=PLANNER)
    why = "replan" if state.replan_count else "initial"
    problems: list[str] = []
    repairs = 0
    rounds = [("repair", n) for n in range(deps.settings.planner_repairs + 1)]
    rounds += [("fresh", n) for n in range(deps.settings.planner_fresh_attempts)]
    messages = list(base)
    for kind, _ in rounds:
        if kind == "fresh":
            messages = [
                *base,
                {
                    "role": "user",
                    "content": "Earlier plans were invalid: "
                    + "; ".join(problems[:10])
                    + ". Make a new, valid plan.",
                },
            ]
        completion = await deps.gateway.complete(
            ChatRequest(task_type=PLAN_TASK_TYPE, messages=messages, json_schema=PLAN_SCHEMA),
            scope=scope,
        )
        plan, carried, problems = _parse(completion.text, registry, state)
        if plan is not None and not problems:
            return Planned(
                plan=plan,
                why=why if why == "replan" or repairs == 0 else "repair",
                repairs=repairs,
                model=completion.model,
                offline=completion.offline,
                carried=carried,
            )
        repairs += 1
        messages = [
            *messages,
            {"role": "assistant", "content": completion.text[:20_000]},
            {
                "role": "user",
                "content": "That plan cannot be used: "
                + "; ".join(problems[:20])
                + ". Answer with the corrected plan as one JSON object.",
            },
        ]
    raise PlanningFailed(
        ErrorV1(
            code=TentacleErrorCode.PLANNING_FAILED.value,
            message=f"no valid plan after {repairs} attempts: " + "; ".join(problems[:5]),
            details={"problems": problems[:20]},
        )
    )
