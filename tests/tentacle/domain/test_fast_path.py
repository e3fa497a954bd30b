"""Simple data questions are recognised; anything else goes to the planner."""

from __future__ import annotations

import pytest

from tentacle.domain.fast_path import answer, classify
from tests.tentacle.domain.helpers import NOW


@pytest.mark.parametrize(
    ("goal", "kind", "describe"),
    [
        ("What's on my calendar this week?", "event", "events this week"),
        ("what is on my calendar today", "event", "events today"),
        ("Show me my calendar", "event", "events in the next 7 days"),
        ("Which meetings do I have tomorrow?", "event", "events tomorrow"),
        ("List contacts at Acme", "contact", "contacts at Acme"),
        ("show me all my contacts", "contact", "contacts"),
        ("list my notes", "note", "notes"),
    ],
)
def test_recognised_questions(goal: str, kind: str, describe: str) -> None:
    query = classify(goal, NOW)
    assert query is not None
    assert (query.object_type, query.describe) == (kind, describe)


def test_this_week_spans_monday_to_monday() -> None:
    query = classify("what's on my calendar this week", NOW)  # NOW is a Monday
    assert query is not None
    assert query.where == {
        "start": {"$gte": "2026-03-02T00:00:00+00:00", "$lt": "2026-03-09T00:00:00+00:00"}
    }


@pytest.mark.parametrize(
    "goal",
    [
        "Summarize today's news",
        "list contacts at Acme and email each of them",
        "what's on my calendar this week? then book a room for every meeting " + "x" * 200,
    ],
)
def test_anything_else_is_planned(goal: str) -> None:
    assert classify(goal, NOW) is None


def test_answer_reads_like_a_sentence() -> None:
    query = classify("list contacts at Acme", NOW)
    assert query is not None
    found = answer(query, [{"data": {"name": "Ada"}}, {"data": {"name": "Grace"}}])
    assert found["answer"] == "2 contacts at Acme: Ada; Grace."
    assert answer(query, [])["answer"] == "No contacts at Acme."
