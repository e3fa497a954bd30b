"""HTTP conditional requests (RFC 9110 section 13) for immutable content with a strong ETag.

Evaluated in the RFC's order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since;
If-Range decides whether a Range header is honoured at all.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from enum import Enum


class Outcome(Enum):
    PROCEED = "proceed"
    NOT_MODIFIED = "not_modified"
    PRECONDITION_FAILED = "precondition_failed"


def http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def _weak_match(header: str, etag: str) -> bool:
    wanted = etag.removeprefix("W/")
    return any(t == "*" or t.removeprefix("W/") == wanted for t in _tags(header))


def _strong_match(header: str, etag: str) -> bool:
    return any(t == "*" or (t == etag and not t.startswith("W/")) for t in _tags(header))


def evaluate(
    *,
    etag: str,
    last_modified: datetime,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
    if_unmodified_since: str | None,
) -> Outcome:
    modified = last_modified.replace(microsecond=0)
    if if_match is not None:
        if not _strong_match(if_match, etag):
            return Outcome.PRECONDITION_FAILED
    else:
        since = parse_http_date(if_unmodified_since)
        if since is not None and modified > since:
            return Outcome.PRECONDITION_FAILED
    if if_none_match is not None:
        if _weak_match(if_none_match, etag):
            return Outcome.NOT_MODIFIED
    else:
        since = parse_http_date(if_modified_since)
        if since is not None and modified <= since:
            return Outcome.NOT_MODIFIED
    return Outcome.PROCEED


def range_applies(if_range: str | None, *, etag: str, last_modified: datetime) -> bool:
    """Whether to honour Range: always without If-Range; with it, only if the validator
    still names this representation (strong comparison; a date must match exactly)."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == etag
    since = parse_http_date(value)
    return since is not None and since == last_modified.replace(microsecond=0)
