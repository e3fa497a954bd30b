"""MongoDB-style filters over an object's `data`, compiled to parameterised SQL.

Nothing of the filter is ever spliced into the SQL text: field paths travel as `text[]`
parameters (`data #> $3`), values as typed parameters; the text is built only from the fixed
fragments below. Paths are still allowlisted (letters, digits, `_`, `-` per segment, at most
eight segments) so a filter cannot address anything odd, and the size of a filter is bounded.

Semantics:

* `{"f": v}` / `{"f": {"$eq": v}}`: equal; a scalar compares by JSON containment
  (`data @> {"f": v}`, served by the GIN index), an ISO date string also matches the same
  instant written another way, `null` matches a missing field;
* `$gt $gte $lt $lte`: numbers compare as numbers (only with numbers), ISO dates as instants
  (only with dates), other strings as text (only with strings);
* `$in $nin` (at most 200 scalars), `$ne`, `$exists`;
* `$regex` (with `$options: "i"`), bounded by `regex_guard`;
* `$contains`: an array field holds the value (or every value of a list), or a string field
  contains the text (case-insensitive);
* `$and $or` (lists of filters), `$not` (of a filter, or of a field's operators).

On a field the type indexes (`object_indexes`), equality, `$in` and comparisons of numbers and
dates also state their condition on the field's `sort_key`, implied by the exact one (the result
is the same): that is the condition the index serves.

The columns read are `data` (the document) and `dates` (its dates shadow, see `object_docs`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from tentacle.domain.object_docs import as_instant
from tentacle.domain.regex_guard import RegexRejected, check_pattern

MAX_CONDITIONS: Final = 64
MAX_NESTING: Final = 8
MAX_SEGMENTS: Final = 8
MAX_IN: Final = 200
MAX_STRING: Final = 2000

_SEGMENT: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FIELD_OPS: Final = frozenset(
    {
        "$eq",
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$exists",
        "$regex",
        "$options",
        "$contains",
        "$not",
    }
)
_COMPARE: Final = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


class FilterInvalid(ValueError):
    """The filter cannot be run; the message names the operator or path at fault."""

    def __init__(self, message: str, *, regex: bool = False) -> None:
        super().__init__(message)
        self.regex = regex


@dataclass
class Params:
    """Positional parameters of one statement; `add` returns the placeholder of a value."""

    values: list[Any] = field(default_factory=list)

    def add(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{cast}"


def parse_path(dotted: str) -> list[str]:
    segments = dotted.split(".")
    if len(segments) > MAX_SEGMENTS:
        raise FilterInvalid(f"a field path has at most {MAX_SEGMENTS} segments")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment):
            raise FilterInvalid(
                "a field path is dot-separated names of letters, digits, '_' and '-' "
                f"(got a segment of {len(segment)} characters that is not)"
            )
    return segments


def sort_key(path: str) -> str:
    """The sort key of the field at `path` (a `text[]` placeholder or literal): the date's
    instant if the field holds an ISO date, else its JSON value, else JSON null. Ordering uses
    it, and so do the extra, index-matching conditions of comparisons (see `object_indexes`
    for why it is a CASE)."""
    return (
        f"(CASE WHEN (dates #> {path}) IS NOT NULL THEN (dates #> {path})"
        f" WHEN (data #> {path}) IS NOT NULL THEN (data #> {path}) ELSE 'null'::jsonb END)"
    )


def compile_where(
    where: Mapping[str, Any], params: Params, indexed: Collection[tuple[str, ...]] = ()
) -> str:
    """SQL that is true exactly for the documents matching `where` (`TRUE` for `{}`).

    For the field paths in `indexed` (those the type indexes) comparisons also state their
    condition on the field's sort key, which the index serves. Only for those: on a field
    without an index the extra condition would only make the planner think the filter more
    selective than it is (it multiplies the two estimates) and pick worse plans."""
    compiler = _Compiler(params, frozenset(indexed))
    return compiler.document(where, 0)


class _Compiler:
    def __init__(self, params: Params, indexed: frozenset[tuple[str, ...]]) -> None:
        self.params = params
        self.indexed = indexed
        self.conditions = 0

    def _count(self) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise FilterInvalid(f"a filter has at most {MAX_CONDITIONS} conditions")

    # ------------------------------------------------------------------ documents
    def document(self, where: Any, depth: int) -> str:
        if not isinstance(where, Mapping):
            raise FilterInvalid("a filter is an object of fields and operators")
        if depth > MAX_NESTING:
            raise FilterInvalid(f"filters nest at most {MAX_NESTING} levels")
        parts: list[str] = []
        for key, value in where.items():
            if key in ("$and", "$or"):
                parts.append(self._logical(key, value, depth))
            elif key == "$not":
                parts.append(f"NOT ({self.document(value, depth + 1)})")
            elif key.startswith("$"):
                raise FilterInvalid(f"unknown operator {_name(key)} at the top of a filter")
            else:
                parts.append(self._field(parse_path(key), value, depth))
        if not parts:
            return "TRUE"
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _logical(self, op: str, value: Any, depth: int) -> str:
        if not isinstance(value, list) or not value:
            raise FilterInvalid(f"{op} takes a non-empty list of filters")
        joined = f" {op[1:].upper()} ".join(self.document(v, depth + 1) for v in value)
        return f"({joined})"

    # ------------------------------------------------------------------ fields
    def _field(self, path: list[str], spec: Any, depth: int) -> str:
        if isinstance(spec, Mapping) and any(str(k).startswith("$") for k in spec):
            return self._operators(path, spec, depth)
        return self._eq(path, spec)

    def _operators(self, path: list[str], spec: Mapping[str, Any], depth: int) -> str:
        if depth > MAX_NESTING:
            raise FilterInvalid(f"filters nest at most {MAX_NESTING} levels")
        unknown = [k for k in spec if k not in _FIELD_OPS]
        if unknown:
            raise FilterInvalid(f"unknown operator {_name(unknown[0])}")
        if "$options" in spec and "$regex" not in spec:
            raise FilterInvalid("$options goes with $regex")
        parts: list[str] = []
        for op, operand in spec.items():
            if op == "$options":
                continue
            if op == "$eq":
                parts.append(self._eq(path, operand))
            elif op == "$ne":
                parts.append(f"NOT {self._eq(path, operand)}")
            elif op in _COMPARE:
                parts.append(self._compare(path, _COMPARE[op], operand, op))
            elif op in ("$in", "$nin"):
                condition = self._in(path, operand, op)
                parts.append(condition if op == "$in" else f"NOT {condition}")
            elif op == "$exists":
                if not isinstance(operand, bool):
                    raise FilterInvalid("$exists takes true or false")
                self._count()
                p = self._path(path)
                parts.append(f"(data #> {p} IS {'NOT ' if operand else ''}NULL)")
            elif op == "$regex":
                parts.append(self._regex(path, operand, spec.get("$options", "")))
            elif op == "$contains":
                parts.append(self._contains(path, operand))
            else:  # $not
                if not isinstance(operand, Mapping) or not operand:
                    raise FilterInvalid("$not on a field takes an object of operators")
                parts.append(f"NOT {self._operators(path, operand, depth + 1)}")
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    # ------------------------------------------------------------------ operators
    def _path(self, path: list[str]) -> str:
        return self.params.add(path, "text[]")

    def _keyed(self, exact: str, path: list[str], p: str, condition: str) -> str:
        """`exact`, and for an indexed field the same restriction on its sort key (every match
        of `exact` meets it, so the result is unchanged, and the AND is never NULL)."""
        if not self._indexed(path):
            return exact
        return f"({exact} AND {sort_key(p)} {condition})"

    def _indexed(self, path: list[str]) -> bool:
        # Not through array positions: the dates shadow does not reach into arrays.
        return tuple(path) in self.indexed and not any(s.isdigit() for s in path)

    def _eq(self, path: list[str], value: Any) -> str:
        self._count()
        _check_value(value)
        if value is None:
            p = self._path(path)
            return f"(data #> {p} IS NULL OR jsonb_typeof(data #> {p}) = 'null')"
        if isinstance(value, dict | list) or any(s.isdigit() for s in path):
            # Exact equality (containment would let [1] match [1, 2], and cannot index arrays).
            p = self._path(path)
            doc = self.params.add(value, "jsonb")
            return f"COALESCE(data #> {p} = {doc}, false)"
        contained = self.params.add(_nest(path, value), "jsonb")
        instant = as_instant(value) if isinstance(value, str) else None
        if instant is None and not self._indexed(path):
            return f"(data @> {contained})"
        p = self._path(path)
        key = self.params.add(_key(value), "jsonb")
        if instant is None:
            exact = f"data @> {contained}"
        else:
            exact = f"(data @> {contained} OR COALESCE((dates #> {p}) = {key}, false))"
        return self._keyed(exact, path, p, f"= {key}")

    def _compare(self, path: list[str], sql_op: str, value: Any, op: str) -> str:
        self._count()
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise FilterInvalid(f"{op} takes a number, a date or a string")
        p = self._path(path)
        if isinstance(value, int | float):
            v = self.params.add(value, "jsonb")
            number = f"jsonb_typeof(data #> {p}) = 'number' AND (data #> {p}) {sql_op} {v}"
            exact = f"COALESCE({number}, false)"
            return self._keyed(exact, path, p, f"{sql_op} {v}")
        _check_value(value)
        instant = as_instant(value)
        if instant is not None:
            v = self.params.add(instant, "jsonb")
            when = f"jsonb_typeof(dates #> {p}) = 'number' AND (dates #> {p}) {sql_op} {v}"
            exact = f"COALESCE({when}, false)"
            return self._keyed(exact, path, p, f"{sql_op} {v}")
        v = self.params.add(value, "text")
        return (
            f"COALESCE(jsonb_typeof(data #> {p}) = 'string' AND (data #>> {p}) {sql_op} {v}, false)"
        )

    def _in(self, path: list[str], values: Any, op: str) -> str:
        if not isinstance(values, list) or not values:
            raise FilterInvalid(f"{op} takes a non-empty list")
        if len(values) > MAX_IN:
            raise FilterInvalid(f"{op} takes at most {MAX_IN} values")
        self._count()
        alternatives: list[str] = []
        scalars = []
        for v in values:
            if isinstance(v, dict | list):
                raise FilterInvalid(f"{op} takes scalars (strings, numbers, booleans, null)")
            _check_value(v)
            if v is None:
                p = self._path(path)
                alternatives.append(f"data #> {p} IS NULL OR jsonb_typeof(data #> {p}) = 'null'")
            else:
                scalars.append(v)
        if scalars:
            if any(s.isdigit() for s in path):
                p = self._path(path)
                docs = self.params.add(scalars, "jsonb[]")
                alternatives.append(f"COALESCE(data #> {p} = ANY({docs}), false)")
            else:
                docs = self.params.add([_nest(path, v) for v in scalars], "jsonb[]")
                alternatives.append(f"data @> ANY({docs})")
            found = (as_instant(v) for v in scalars if isinstance(v, str))
            instants = [i for i in found if i is not None]
            if instants:
                p = self._path(path)
                many = self.params.add(instants, "jsonb[]")
                alternatives.append(f"COALESCE((dates #> {p}) = ANY({many}), false)")
        either = "(" + " OR ".join(alternatives) + ")"
        if len(scalars) != len(values) or not self._indexed(path):
            return either  # (a JSON null's key would be an SQL NULL in a jsonb[] parameter)
        keys = [_key(v) for v in scalars]
        p = self._path(path)
        return self._keyed(either, path, p, f"= ANY({self.params.add(keys, 'jsonb[]')})")

    def _regex(self, path: list[str], pattern: Any, options: Any) -> str:
        self._count()
        if not isinstance(pattern, str):
            raise FilterInvalid("$regex takes a string")
        if options not in ("", "i"):
            raise FilterInvalid('$options may only be "i" (case-insensitive)')
        try:
            check_pattern(pattern)
        except RegexRejected as exc:
            raise FilterInvalid(str(exc), regex=True) from None
        p = self._path(path)
        r = self.params.add(pattern, "text")
        match = "~*" if options == "i" else "~"
        return (
            f"COALESCE(jsonb_typeof(data #> {p}) = 'string' AND (data #>> {p}) {match} {r}, false)"
        )

    def _contains(self, path: list[str], value: Any) -> str:
        self._count()
        _check_value(value)
        if value is None or isinstance(value, dict):
            raise FilterInvalid("$contains takes a string, number, boolean or a list of them")
        p = self._path(path)
        wanted = value if isinstance(value, list) else [value]
        if any(isinstance(v, dict | list) for v in wanted):
            raise FilterInvalid("$contains takes a string, number, boolean or a list of them")
        arr = self.params.add(wanted, "jsonb")
        array_case = f"WHEN 'array' THEN (data #> {p}) @> {arr}"
        string_case = ""
        if isinstance(value, str):
            text = self.params.add(value.lower(), "text")
            string_case = f" WHEN 'string' THEN strpos(lower(data #>> {p}), {text}) > 0"
        return (
            f"COALESCE(CASE jsonb_typeof(data #> {p}) {array_case}{string_case}"
            " ELSE false END, false)"
        )


def _key(value: Any) -> Any:
    """A scalar's sort key: a date's instant (see `sort_key`), else the value."""
    instant = as_instant(value) if isinstance(value, str) else None
    return value if instant is None else instant


def _nest(path: list[str], value: Any) -> Any:
    for segment in reversed(path):
        value = {segment: value}
    return value


def _check_value(value: Any) -> None:
    """Operands are bounded, and hold nothing PostgreSQL refuses in JSON (NUL)."""
    text = json.dumps(value)
    if len(text) > MAX_STRING:
        raise FilterInvalid(f"an operand is limited to {MAX_STRING} characters of JSON")
    if "\\u0000" in text:
        raise FilterInvalid("an operand contains NUL")


def _name(key: str) -> str:
    """An operator's name for an error message, shortened (the caller wrote it)."""
    return repr(key[:32])
