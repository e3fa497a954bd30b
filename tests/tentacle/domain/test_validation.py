"""Plans are validated against the agent registry before anything runs."""

from __future__ import annotations

from contracts.tentacle.plans import PlanV1
from tentacle.domain.validation import validate_plan
from tests.tentacle.domain.helpers import REGISTRY, plan, step


def codes(p: PlanV1, **kw: object) -> list[str]:
    return sorted(problem.code for problem in validate_plan(p, REGISTRY, **kw))  # type: ignore[arg-type]


def test_a_good_plan_has_no_problems() -> None:
    p = plan(
        step("get", "fetch", inputs={"url": "https://example.com"}),
        step("a", inputs={"text": {"$ref": "get.text"}}),
        step("b", inputs={"text": {"$ref": "get"}}, parallel_group="g"),
        step("c", depends_on=["a"], parallel_group="g"),
        step("end", inputs={"x": {"$ref": "$context.event"}}, depends_on=["b", "c"]),
    )
    assert validate_plan(p, REGISTRY, context_keys={"event"}) == []


def test_unknown_agent_missing_input_and_unexpected_input() -> None:
    p = plan(
        step("a", "teleport"),
        step("b", "fetch", inputs={"method": "GET", "colour": "red"}),
        step("c", "fetch", inputs={"url": 42}),
    )
    assert codes(p) == ["invalid_input", "missing_input", "unexpected_input", "unknown_agent"]


def test_bad_references_are_caught() -> None:
    p = plan(
        step("a", inputs={"x": {"$ref": "nowhere.text"}}),
        step("b", inputs={"x": {"$ref": "$context.missing"}}),
        step("c", inputs={"x": {"$ref": "Not A Ref"}}),
        step("d", depends_on=["ghost"]),
    )
    assert codes(p) == ["bad_reference", "bad_reference", "bad_reference", "unknown_dependency"]


def test_cycles_through_references_or_dependencies() -> None:
    p = plan(
        step("a", inputs={"x": {"$ref": "c.out"}}),
        step("b", depends_on=["a"]),
        step("c", depends_on=["b"]),
    )
    problems = validate_plan(p, REGISTRY)
    assert [pr.code for pr in problems] == ["cycle"]
    assert "a -> c -> b -> a" in problems[0].message


def test_duplicate_ids_and_group_rules() -> None:
    p = plan(
        step("a", parallel_group="g", failure_policy="best_effort"),
        step("b", depends_on=["a"], parallel_group="g", failure_policy="fail_fast"),
        step("a"),
    )
    assert codes(p) == ["duplicate_step", "group_dependency", "group_policy"]


def test_checkpoint_specs_need_their_parts() -> None:
    p = plan(step("a", checkpoint={"type": "select"}), step("b", checkpoint={"type": "qa"}))
    assert codes(p) == ["checkpoint", "checkpoint"]
