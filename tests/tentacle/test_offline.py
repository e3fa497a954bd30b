"""The offline model's answers: plans that validate, and honest deterministic text work."""

from __future__ import annotations

import json

import pytest

from contracts.tentacle.plans import PlanV1
from shared.llm import OfflineRequest
from tentacle.adapters.agent_store import load_builtin
from tentacle.adapters.offline import planner, text_work
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.validation import validate_plan

REGISTRY = AgentRegistry(load_builtin())


def request(task_type: str, inputs: object) -> OfflineRequest:
    return OfflineRequest(
        task_type=task_type,
        messages=[{"role": "user", "content": json.dumps(inputs)}],
        tools=[],
        json_schema=None,
    )


@pytest.mark.parametrize(
    ("goal", "agents"),
    [
        ("Summarize today's news", ["summarize"]),
        ("Summarize https://a.example/x", ["http_fetch", "summarize"]),
        (
            "Compare https://a.example/x and https://b.example/y",
            ["http_fetch", "http_fetch", "aggregate", "analyze"],
        ),
        (
            "Summarize https://a.example/x and email it to bob@example.com",
            ["http_fetch", "summarize", "compose", "notify"],
        ),
        ("Send a joke to ada@example.com", ["compose", "notify"]),
        ("Extract the emails from this list", ["transform"]),
        ("Write a poem about tides and save it as poem.md", ["compose", "file_storage"]),
        ("Generate a programming joke", ["compose"]),
    ],
)
def test_offline_plans_fit_the_goal_and_validate(goal: str, agents: list[str]) -> None:
    reply = planner.respond(request("plan", {"goal": goal, "context": []}))
    plan = PlanV1.model_validate_json(reply.text)
    assert [s.agent for s in plan.steps] == agents
    assert validate_plan(plan, REGISTRY) == []
    assert plan.rationale.startswith("[offline model]")


def test_a_replan_after_a_failed_fetch_works_from_the_goal() -> None:
    brief = {"goal": "Summarize https://a.example/x", "failed": {"agent": "http_fetch"}}
    plan = PlanV1.model_validate_json(planner.respond(request("plan", brief)).text)
    assert [s.agent for s in plan.steps] == ["summarize"]


def test_summaries_are_extractive_and_labelled() -> None:
    text = (
        "Tides rise and fall twice a day. The Moon pulls the oceans toward it. "
        "Cats are unrelated to tides. The Moon and the Sun together make spring tides."
    )
    answer = json.loads(
        text_work.summarize(request("summarize", {"text": text, "max_words": 20})).text
    )
    assert answer["summary"].startswith("[offline model] ")
    body = answer["summary"].removeprefix("[offline model] ")
    assert all(sentence.strip() in text for sentence in body.split(". ") if sentence)
    assert len(body.split()) <= 20 + 12


@pytest.mark.parametrize(
    ("data", "instructions", "result"),
    [
        ("mail ada@x.io and bob@y.org", "extract the emails", ["ada@x.io", "bob@y.org"]),
        ([{"a": 1}, {"a": 2, "b": 3}], "convert to csv", "a,b\n1,\n2,3\n"),
        ({"name": "ada"}, "uppercase", {"name": "ADA"}),
        ([3, 1, 2], "sort", [1, 2, 3]),
        ('{"x": 1}', "parse json", {"x": 1}),
    ],
)
def test_transforms_do_what_they_say(data: object, instructions: str, result: object) -> None:
    answer = text_work.transform(request("transform", {"data": data, "instructions": instructions}))
    assert json.loads(answer.text) == {"result": result}


def test_analysis_measures_numbers_and_text() -> None:
    numbers = json.loads(text_work.analyze(request("analyze", {"data": [1, 2, 3, 10]})).text)
    assert numbers["metrics"] == {"count": 4, "sum": 16, "mean": 4.0, "min": 1, "max": 10}
    words = json.loads(text_work.analyze(request("analyze", {"data": "tide tide moon"})).text)
    assert words["metrics"]["top_terms"][0] == "tide"


def test_aggregate_merges_and_counts() -> None:
    answer = json.loads(
        text_work.aggregate(
            request("aggregate", {"items": [{"a": [1]}, None, {"a": [2], "b": 1}]})
        ).text
    )
    assert answer["result"] == {"a": [1, 2], "b": 1}
    assert answer["count"] == 2
