"""References between steps: `{"$ref": "<step>[.<path>]"}` or `{"$ref": "$context.<name>"}`.

A path walks dict keys and list indices (`fetch.items.0.title`). A reference that resolves to
nothing (a missing key, a tolerated failure's absent output) reads as null: the plan was
validated against the steps' declared outputs, so the gap is the data's, not the plan's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from contracts.tentacle.plans import CONTEXT_REF, REF_KEY

_STEP = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_REF_DEPTH: Final = 16


@dataclass(frozen=True, slots=True)
class Ref:
    source: str
    """A step id, or `$context`."""
    path: tuple[str, ...]

    @property
    def is_context(self) -> bool:
        return self.source == CONTEXT_REF

    def __str__(self) -> str:
        return ".".join((self.source, *self.path))


class BadRef(ValueError):
    pass


def parse_ref(text: str) -> Ref:
    parts = text.split(".")
    head, path = parts[0], tuple(parts[1:])
    if head != CONTEXT_REF and not _STEP.fullmatch(head):
        raise BadRef(f"{text!r} does not start with a step id or {CONTEXT_REF}")
    if head == CONTEXT_REF and not path:
        raise BadRef(f"{text!r} names no context value")
    if len(path) > MAX_REF_DEPTH or not all(_SEGMENT.fullmatch(p) for p in path):
        raise BadRef(f"{text!r} has an invalid path")
    return Ref(head, path)


def ref_of(value: Any) -> str | None:
    """The reference text if `value` is a reference object, else None."""
    if isinstance(value, dict) and len(value) == 1 and REF_KEY in value:
        target = value[REF_KEY]
        return target if isinstance(target, str) else ""
    return None


def find_refs(value: Any) -> Iterator[str]:
    """Every reference text anywhere inside an input value."""
    text = ref_of(value)
    if text is not None:
        yield text
    elif isinstance(value, dict):
        for item in value.values():
            yield from find_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from find_refs(item)


def walk(value: Any, path: tuple[str, ...]) -> Any:
    for segment in path:
        if isinstance(value, Mapping):
            value = value.get(segment)
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return None
    return value


def resolve(value: Any, outputs: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
    """`value` with every reference replaced by what it points at."""
    text = ref_of(value)
    if text is not None:
        ref = parse_ref(text)
        root: Any = context if ref.is_context else outputs.get(ref.source)
        return walk(root, ref.path)
    if isinstance(value, dict):
        return {k: resolve(v, outputs, context) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs, context) for v in value]
    return value
