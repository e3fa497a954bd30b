"""Plan validation against the agent registry: a plan that fails here is never executed.

Problems are collected rather than raised one by one, so the planner can be told everything that
is wrong in one repair round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from contracts.tentacle.plans import CheckpointType, PlanStepV1, PlanV1
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.refs import BadRef, find_refs, parse_ref


@dataclass(frozen=True, slots=True)
class PlanProblem:
    code: str
    """duplicate_step, unknown_agent, missing_input, unexpected_input, invalid_input,
    bad_reference, unknown_dependency, cycle, group_dependency, group_policy, checkpoint."""
    message: str
    step_id: str | None = None

    def __str__(self) -> str:
        where = f"step {self.step_id}: " if self.step_id else ""
        return f"{where}{self.message} ({self.code})"


def dependencies(step: PlanStepV1) -> set[str]:
    """Steps `step` waits for: its `depends_on` and every step its inputs reference."""
    deps = set(step.depends_on)
    for text in find_refs(step.inputs):
        try:
            ref = parse_ref(text)
        except BadRef:
            continue
        if not ref.is_context:
            deps.add(ref.source)
    return deps


def validate_plan(
    plan: PlanV1, registry: AgentRegistry, *, context_keys: Iterable[str] = ()
) -> list[PlanProblem]:
    problems: list[PlanProblem] = []
    ids = [s.id for s in plan.steps]
    seen: set[str] = set()
    for step_id in ids:
        if step_id in seen:
            problems.append(PlanProblem("duplicate_step", f"the id {step_id} is used twice"))
        seen.add(step_id)
    context = set(context_keys)
    graph: dict[str, set[str]] = {}
    for step in plan.steps:
        problems += _check_step(step, registry, seen, context)
        graph[step.id] = {d for d in dependencies(step) if d in seen and d != step.id}
    cycle = _find_cycle(graph)
    if cycle:
        path = " -> ".join(cycle)
        problems.append(PlanProblem("cycle", f"the steps depend on each other: {path}"))
    else:
        problems += _check_groups(plan, graph)
    return problems


def _check_step(
    step: PlanStepV1, registry: AgentRegistry, ids: set[str], context: set[str]
) -> list[PlanProblem]:
    out: list[PlanProblem] = []

    def problem(code: str, message: str) -> None:
        out.append(PlanProblem(code, message, step.id))

    for dep in step.depends_on:
        if dep == step.id:
            problem("cycle", "a step cannot depend on itself")
        elif dep not in ids:
            problem("unknown_dependency", f"depends on {dep}, which is not in the plan")
    for text in find_refs(step.inputs):
        try:
            ref = parse_ref(text)
        except BadRef as exc:
            problem("bad_reference", str(exc))
            continue
        if ref.is_context:
            if ref.path[0] not in context:
                problem("bad_reference", f"{text} names no value the task was given")
        elif ref.source == step.id:
            problem("cycle", f"{text} refers to the step's own output")
        elif ref.source not in ids:
            problem("bad_reference", f"{text} refers to {ref.source}, which is not in the plan")
    out += _check_checkpoint(step)
    agent = registry.get(step.agent)
    if agent is None:
        known = ", ".join(registry.names())
        problem("unknown_agent", f"no agent named {step.agent} (available: {known})")
        return out
    for name in agent.required_inputs:
        if name not in step.inputs:
            problem("missing_input", f"{step.agent} needs the input {name}")
    props = agent.input_properties
    closed = agent.inputs.get("additionalProperties") is False
    for name, value in step.inputs.items():
        if name not in props:
            if closed:
                problem("unexpected_input", f"{step.agent} takes no input {name}")
            continue
        if not any(True for _ in find_refs(value)):
            error = _first_error(props[name], value)
            if error is not None:
                problem("invalid_input", f"input {name}: {error}")
    return out


def _first_error(schema: Any, value: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: e.path)
    return errors[0].message[:200] if errors else None


def _check_checkpoint(step: PlanStepV1) -> list[PlanProblem]:
    spec = step.checkpoint
    if spec is None:
        return []
    needs = {
        CheckpointType.SELECT: ("options", spec.options),
        CheckpointType.QA: ("questions", spec.questions),
        CheckpointType.INPUT: ("fields", spec.fields),
    }
    if spec.type in needs:
        label, items = needs[spec.type]
        if not items:
            return [PlanProblem("checkpoint", f"a {spec.type} checkpoint needs {label}", step.id)]
    return []


def _find_cycle(graph: Mapping[str, set[str]]) -> list[str]:
    """One cycle as a path (first node repeated at the end), or [] if there is none."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == GREY:
                return [*stack[stack.index(nxt) :], nxt]
            if colour.get(nxt) == WHITE:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = BLACK
        return []

    for node in sorted(graph):
        if colour[node] == WHITE:
            found = visit(node)
            if found:
                return found
    return []


def _reachable(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """For every step, all the steps it transitively waits for."""
    memo: dict[str, set[str]] = {}

    def up(node: str) -> set[str]:
        if node not in memo:
            memo[node] = set()
            for dep in graph.get(node, ()):
                memo[node] |= {dep} | up(dep)
        return memo[node]

    for node in graph:
        up(node)
    return memo


def _check_groups(plan: PlanV1, graph: Mapping[str, set[str]]) -> list[PlanProblem]:
    out: list[PlanProblem] = []
    groups: dict[str, list[PlanStepV1]] = {}
    for step in plan.steps:
        if step.parallel_group is not None:
            groups.setdefault(step.parallel_group, []).append(step)
    upstream = _reachable(graph)
    for name, members in groups.items():
        ids = {m.id for m in members}
        for member in members:
            inside = upstream.get(member.id, set()) & ids
            if inside:
                out.append(
                    PlanProblem(
                        "group_dependency",
                        f"runs in parallel group {name} but waits for {', '.join(sorted(inside))}",
                        member.id,
                    )
                )
        policies = {m.failure_policy for m in members if m.failure_policy is not None}
        if len(policies) > 1:
            out.append(
                PlanProblem("group_policy", f"parallel group {name} has conflicting policies")
            )
    return out
