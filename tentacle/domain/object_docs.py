"""Rules for workspace object documents: size and shape limits, merge patches, and the dates
shadow that lets queries compare dates as dates.

The shadow: every string in a document that is an ISO 8601 date or date-time is also stored,
at the same path, as seconds since the epoch (a naive time counts as UTC). Comparing with a date
then compares numbers, which is exact across time zones and formats and never fails on a string
that merely looks like a date (PostgreSQL's own cast would raise on `2026-02-31`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

MAX_DOC_BYTES: Final = 256 * 1024
MAX_DEPTH: Final = 32
MAX_KEY: Final = 256

_DATE_LIKE: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)


class DocumentInvalid(ValueError):
    """The document breaks a limit; the message says which, without echoing its content."""


def check_document(data: Mapping[str, Any]) -> int:
    """Raise if `data` is too large, too deep, or holds what PostgreSQL's jsonb refuses (NUL);
    return its size in bytes."""
    _walk(data, 1)
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_DOC_BYTES:
        raise DocumentInvalid(f"the document is {size} bytes; the limit is {MAX_DOC_BYTES}")
    return size


def _walk(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise DocumentInvalid(f"the document nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if len(key) > MAX_KEY:
                raise DocumentInvalid(f"a field name is longer than {MAX_KEY} characters")
            if "\x00" in key:
                raise DocumentInvalid("a field name contains NUL")
            _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, depth + 1)
    elif isinstance(value, str):
        if "\x00" in value:
            raise DocumentInvalid("a string contains NUL (not storable in JSON documents)")
    elif isinstance(value, float) and value != value:  # NaN cannot be JSON
        raise DocumentInvalid("a number is NaN")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, `null` removes a field, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def as_instant(value: str) -> float | None:
    """Seconds since the epoch if `value` is an ISO date or date-time, else None."""
    if len(value) > 40 or not _DATE_LIKE.match(value):
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value.replace(" ", "T", 1))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp()


def dates_shadow(data: Mapping[str, Any]) -> dict[str, Any]:
    """The dates of `data` as epoch seconds at their paths (objects only: see module doc)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, str):
            instant = as_instant(value)
            if instant is not None:
                out[key] = instant
        elif isinstance(value, dict):
            inner = dates_shadow(value)
            if inner:
                out[key] = inner
    return out
