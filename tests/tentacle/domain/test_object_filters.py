"""The filter compiler and the $regex guard, without a database: what reaches the SQL text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tentacle.domain.object_docs import (
    DocumentInvalid,
    as_instant,
    check_document,
    dates_shadow,
    merge_patch,
)
from tentacle.domain.object_filters import FilterInvalid, Params, compile_where, sort_key
from tentacle.domain.object_indexes import (
    IndexSpecInvalid,
    create_index_sql,
    indexed_paths,
    path_literal,
)
from tentacle.domain.regex_guard import RegexRejected, check_pattern

# What the SQL text may contain besides placeholders: the compiler's own fragments.
_FRAGMENT = re.compile(r"^[\sA-Za-z0-9_$:#>@=<!(),.'\[\]*~|-]*$")


def compiled(where: dict[str, Any]) -> tuple[str, list[Any]]:
    params = Params()
    return compile_where(where, params), params.values


@pytest.mark.parametrize(
    "where",
    [
        {"name": "x'); DROP TABLE t; --"},
        {"a.b": {"$gt": "'; SELECT 1; --"}},
        {"n": {"$in": ["a'", 'b"', None, 3]}},
        {"s": {"$regex": "^o'clock$", "$options": "i"}},
        {"$or": [{"x": {"$contains": "it's"}}, {"$not": {"y": {"$exists": False}}}]},
        {"when": {"$gte": "2026-01-30", "$lt": "2026-02-01T00:00:00+02:00"}},
    ],
)
def test_values_and_paths_only_travel_as_parameters(where: dict[str, Any]) -> None:
    sql, values = compiled(where)
    assert _FRAGMENT.fullmatch(sql), sql
    for value in values:
        if isinstance(value, str):
            assert value not in sql
    used = {int(n) for n in re.findall(r"\$(\d+)::", sql)}
    assert used == set(range(1, len(values) + 1))


def test_dates_compare_as_instants_and_numbers_as_numbers() -> None:
    sql, values = compiled({"start": {"$gte": "2026-01-30"}, "n": {"$lt": 10}})
    assert "dates #>" in sql
    assert as_instant("2026-01-30") in values
    assert "jsonb_typeof(data #> $3::text[]) = 'number'" in sql
    assert as_instant("2026-01-30T02:00:00+02:00") == as_instant("2026-01-30T00:00:00Z")
    assert as_instant("2026-02-31") is None
    assert as_instant("not a date") is None


@pytest.mark.parametrize(
    "where",
    [
        {"$where": "1"},
        {"a": {"$bogus": 1}},
        {"a b": 1},
        {"a'": 1},
        {"": 1},
        {"a": {"$in": []}},
        {"a": {"$gt": None}},
        {"a": {"$exists": 1}},
        {"a": {"$not": 5}},
        {"$and": []},
        {"a": {"$regex": "(a+)+"}},
        {"a": "x" * 3000},
    ],
)
def test_bad_filters_are_refused(where: dict[str, Any]) -> None:
    with pytest.raises(FilterInvalid):
        compiled(where)


@pytest.mark.parametrize(
    "pattern", ["(a+)+", "(a*)*", "((ab)*c)+", "(a+){2,}", r"(a)\1", "(?=x)", "a{500}", "(", ""]
)
def test_dangerous_patterns_are_rejected(pattern: str) -> None:
    with pytest.raises(RegexRejected):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", ["^acme", "a+b*", "(ab)+", "(a+)?", r"\(a+\)+", "x{2,5}"])
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert check_pattern(pattern) == pattern


def test_documents_merge_and_are_bounded() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": None, "e": 3}, "d": [1]}) == {
        "a": {"c": 2, "e": 3},
        "d": [1],
    }
    assert dates_shadow({"s": "2026-01-01", "x": {"y": "2026-01-02T00:00:00Z"}, "n": "1"}) == {
        "s": as_instant("2026-01-01"),
        "x": {"y": as_instant("2026-01-02")},
    }
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(40):
        node["n"] = {}
        node = node["n"]
    for bad in (deep, {"t": "a\x00"}, {"t": "x" * 300_000}):
        with pytest.raises(DocumentInvalid):
            check_document(bad)


def test_indexed_fields_state_their_condition_on_the_index_expression() -> None:
    schema = {
        "type": "object",
        "properties": {
            "start": {"type": "string", "x-index": True},
            "room": {"properties": {"floor": {"x-index": True}}},
            "plain": {"type": "number"},
        },
    }
    assert indexed_paths(schema) == [["start"], ["room", "floor"]]
    with pytest.raises(IndexSpecInvalid):
        indexed_paths({"properties": {f"f{i}": {"x-index": True} for i in range(9)}})
    with pytest.raises(IndexSpecInvalid):
        indexed_paths({"properties": {"it's": {"x-index": True}}})
    # The index is over exactly the expression the compiled filters and orderings name.
    ddl = create_index_sql("acme", "meeting", ["room", "floor"])
    assert sort_key(path_literal(["room", "floor"])) in ddl
    assert ddl.endswith("WHERE org_id = 'acme' AND type = 'meeting'")
    params = Params()
    plain = compile_where({"start": {"$gte": "2026-01-01"}}, params)
    params = Params()
    keyed = compile_where({"start": {"$gte": "2026-01-01"}}, params, [("start",)])
    assert "CASE WHEN" not in plain
    assert sort_key("$1::text[]") + " >= $2::jsonb" in keyed
    # The epoch is a date too (its instant, 0.0, is falsy).
    params = Params()
    compile_where({"d": {"$in": ["1970-01-01"]}}, params, [("d",)])
    assert [0.0] in params.values
    # A JSON null among $in values has no jsonb[] form: no keyed condition then.
    params = Params()
    assert "CASE" not in compile_where({"n": {"$in": [1, None]}}, params, [("n",)])
