"""Structured data handed to an input that takes text arrives as that data's JSON text."""

from __future__ import annotations

import json

from tests.tentacle.domain.helpers import agent

SUMMARIZE = agent(
    "summarize",
    inputs={
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": ["string", "null"]},
            "items": {"type": "array"},
            "data": {"type": ["string", "object"]},
            "style": {"type": "string"},
        },
    },
)


def test_an_object_or_list_for_a_text_input_becomes_its_json_text() -> None:
    event = {"action": "opened", "issue": {"number": 7, "title": "Crash on über start"}}
    converted = SUMMARIZE.text_for_structures({"text": event, "style": ["short", "plain"]})
    assert json.loads(converted["text"]) == event
    assert "über" in converted["text"]  # kept readable, not \\u-escaped
    assert json.loads(converted["style"]) == ["short", "plain"]


def test_inputs_that_accept_structures_or_already_are_text_are_left_alone() -> None:
    inputs = {"text": "plain", "items": [1, 2], "data": {"k": 1}, "unknown": {"x": 1}}
    assert SUMMARIZE.text_for_structures(inputs) == inputs
    assert SUMMARIZE.text_for_structures({"text": None}) == {"text": None}
