"""Event filters of triggers: checked once when a trigger is saved, evaluated on every event.

A filter is a JSON object `{field: condition}`; every condition must hold. A condition is a
value (equality), a list of values (one of them), or an object of operators. The fields a
source's events have are fixed (see `contracts.tentacle.triggers`), so a typo in a field name is
refused when the trigger is created rather than silently never matching.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from contracts.tentacle.trigger_errors import TriggerErrorCode
from contracts.tentacle.triggers import TriggerSource
from tentacle.domain.trigger_errors import TriggerError

MAX_CONDITIONS: Final = 20
MAX_SET: Final = 100
MAX_STRING: Final = 500
MAX_DEPTH: Final = 6

INTEGRATION_FIELDS: Final = frozenset(
    {"event_type", "command", "text", "channel_id", "actor.id", "actor.name", "provider"}
)
INTEGRATION_PREFIXES: Final = ("options.", "payload.")
PLATFORM_FIELDS: Final = frozenset(
    {
        "event_type",
        "task_id",
        "goal",
        "status",
        "reason",
        "summary",
        "object_type",
        "object_id",
        "change",
    }
)
PLATFORM_PREFIXES: Final = ("data.",)
ALIASES: Final = {"channel": "channel_id", "repository": "channel_id"}

_PATH: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})*$")
_OPERATORS: Final = frozenset(
    {"$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$contains", "$starts_with"}
    | {"$exists"}
)

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Condition:
    path: tuple[str, ...]
    op: str
    operand: Any


@dataclass(frozen=True, slots=True)
class EventFilter:
    conditions: tuple[Condition, ...]

    def matches(self, event: Mapping[str, Any]) -> bool:
        return all(_holds(c, lookup(event, c.path)) for c in self.conditions)


MISSING: Final = object()


def _invalid(message: str) -> TriggerError:
    return TriggerError(TriggerErrorCode.TRIGGER_FILTER_INVALID, message)


def parse_filter(raw: Mapping[str, Any], source: TriggerSource) -> EventFilter:
    """The checked filter, or `tentacle.trigger_filter_invalid` saying what is wrong."""
    if len(raw) > MAX_CONDITIONS:
        raise _invalid(f"a filter holds at most {MAX_CONDITIONS} conditions")
    conditions: list[Condition] = []
    for name, condition in raw.items():
        field = ALIASES.get(name, name)
        check_field(field, source)
        path = tuple(field.split("."))
        if isinstance(condition, dict):
            if not condition:
                raise _invalid(f"{name}: an empty condition")
            for op, operand in condition.items():
                conditions.append(Condition(path, op, _operand(name, op, operand)))
        elif isinstance(condition, list):
            conditions.append(Condition(path, "$in", _operand(name, "$in", condition)))
        else:
            conditions.append(Condition(path, "$eq", _operand(name, "$eq", condition)))
    return EventFilter(tuple(conditions))


def check_field(field: str, source: TriggerSource) -> None:
    if not _PATH.fullmatch(field) or field.count(".") >= MAX_DEPTH:
        raise _invalid(f"{field[:80]!r} is not a field path (dotted words, at most {MAX_DEPTH})")
    platform = source is TriggerSource.PLATFORM
    fields = PLATFORM_FIELDS if platform else INTEGRATION_FIELDS
    prefixes: tuple[str, ...] = PLATFORM_PREFIXES if platform else INTEGRATION_PREFIXES
    if field not in fields and not field.startswith(prefixes):
        known = ", ".join(sorted(fields | {p + "<name>" for p in prefixes} | set(ALIASES)))
        raise _invalid(f"{source.value} events have no field {field!r}; known: {known}")


def _scalar(name: str, value: Any) -> Scalar:
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise _invalid(f"{name}: strings in filters are at most {MAX_STRING} characters")
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    raise _invalid(f"{name}: expected a string, number, boolean or null")


def _operand(name: str, op: str, operand: Any) -> Any:
    if op not in _OPERATORS:
        raise _invalid(f"{name}: unknown operator {op[:40]!r}; use {', '.join(sorted(_OPERATORS))}")
    if op in ("$in", "$nin"):
        if not isinstance(operand, list) or not operand or len(operand) > MAX_SET:
            raise _invalid(f"{name}: {op} takes a list of 1 to {MAX_SET} values")
        return tuple(_scalar(name, v) for v in operand)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if isinstance(operand, bool) or not isinstance(operand, int | float | str):
            raise _invalid(f"{name}: {op} takes a number or a string")
        return _scalar(name, operand)
    if op in ("$contains", "$starts_with"):
        if not isinstance(operand, str) or not operand:
            raise _invalid(f"{name}: {op} takes a non-empty string")
        return _scalar(name, operand)
    if op == "$exists":
        if not isinstance(operand, bool):
            raise _invalid(f"{name}: $exists takes true or false")
        return operand
    return _scalar(name, operand)


def lookup(event: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = event
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def _same(value: Any, operand: Any) -> bool:
    # JSON's true is not 1: compare booleans only with booleans.
    if isinstance(value, bool) or isinstance(operand, bool):
        return isinstance(value, bool) and isinstance(operand, bool) and value == operand
    return bool(value == operand)


def _ordered(value: Any, operand: Any) -> tuple[Any, Any] | None:
    numbers = (int, float)
    if isinstance(value, numbers) and not isinstance(value, bool) and isinstance(operand, numbers):
        return value, operand
    if isinstance(value, str) and isinstance(operand, str):
        return value, operand
    return None


def _holds(c: Condition, value: Any) -> bool:
    op, operand = c.op, c.operand
    if op == "$exists":
        return (value is not MISSING and value is not None) is operand
    if value is MISSING:
        value = None
    if op == "$eq":
        return _same(value, operand)
    if op == "$ne":
        return not _same(value, operand)
    if op == "$in":
        return any(_same(value, v) for v in operand)
    if op == "$nin":
        return not any(_same(value, v) for v in operand)
    if op in ("$contains", "$starts_with"):
        if not isinstance(value, str):
            return False
        return operand in value if op == "$contains" else value.startswith(operand)
    pair = _ordered(value, operand)
    if pair is None:
        return False
    a, b = pair
    if op == "$gt":
        return bool(a > b)
    if op == "$gte":
        return bool(a >= b)
    if op == "$lt":
        return bool(a < b)
    return bool(a <= b)
