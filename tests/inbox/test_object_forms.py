"""An object's form from its type's schema, and the submitted form back into the object."""

from __future__ import annotations

import pytest

from inbox.domain.errors import InvalidRequest
from inbox.domain.object_forms import EXTRA, data_of, fields_of

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Full name"},
        "size": {"type": "integer"},
        "score": {"type": "number"},
        "active": {"type": "boolean"},
        "stage": {"enum": ["lead", "customer"]},
        "address": {"type": "object"},
    },
    "required": ["name"],
}


def test_fields_follow_the_schema_and_keep_the_rest_as_json() -> None:
    data = {"name": "Ada", "size": 3, "active": True, "address": {"city": "Oslo"}, "note": "n"}
    fields = {f.name: f for f in fields_of(SCHEMA, data)}
    assert [f.kind for f in fields.values()] == [
        "text",
        "integer",
        "number",
        "boolean",
        "choice",
        "json",
        "json",
    ]
    assert fields["name"].label == "Full name"
    assert fields["name"].required
    assert fields["size"].value == "3"
    assert fields["active"].checked
    assert fields["stage"].choices == ("lead", "customer")
    assert '"city": "Oslo"' in fields["address"].value
    assert fields[EXTRA].value.strip().startswith("{")
    assert '"note"' in fields[EXTRA].value


def test_a_schemaless_type_is_one_json_field() -> None:
    fields = fields_of(None, {"a": 1})
    assert [(f.name, f.kind) for f in fields] == [(EXTRA, "json")]
    assert data_of(None, {EXTRA: '{"a": 2}'}) == {"a": 2}


def test_the_form_becomes_typed_data() -> None:
    answers = {
        "f.name": "Ada",
        "f.size": "12",
        "f.score": "2.5",
        "f.active": "true",
        "f.stage": "lead",
        "f.address": '{"city": "Oslo"}',
        "k.address": "json",
        EXTRA: '{"note": "n"}',
    }
    assert data_of(SCHEMA, answers) == {
        "name": "Ada",
        "size": 12,
        "score": 2.5,
        "active": True,
        "stage": "lead",
        "address": {"city": "Oslo"},
        "note": "n",
    }
    # Empty fields are left out; an unchecked box is false.
    assert data_of(SCHEMA, {"f.name": "Ada", "f.size": " "}) == {"name": "Ada", "active": False}


@pytest.mark.parametrize(
    "answers",
    [
        {"f.size": "twelve"},
        {"f.score": "1,5"},
        {"f.address": "{", "k.address": "json"},
        {EXTRA: "[1]"},
        {EXTRA: "{nope"},
    ],
)
def test_a_field_that_does_not_parse_is_refused(answers: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest):
        data_of(SCHEMA, answers)
