"""Stable error codes of workspace objects and memory (tentacle's `tentacle.*` namespace)."""

from __future__ import annotations

from enum import StrEnum


class WorkspaceErrorCode(StrEnum):
    OBJECT_NOT_FOUND = "tentacle.object_not_found"
    """No such object in this organisation (another organisation's ids look the same)."""
    OBJECT_EXISTS = "tentacle.object_exists"
    """An object with the chosen id exists already."""
    OBJECT_VERSION_CONFLICT = "tentacle.object_version_conflict"
    """`expected_version` is not the object's version: someone changed it meanwhile."""
    OBJECT_INVALID = "tentacle.object_invalid"
    """The document is too large, too deep, holds NUL characters, or breaks its type's schema."""
    OBJECT_SCHEMA_INVALID = "tentacle.object_schema_invalid"
    """The JSON Schema given for a type is not a valid schema (or asks for more indexed fields,
    `"x-index": true`, than a type or the organisation may have)."""
    OBJECT_SCHEMA_CONFLICT = "tentacle.object_schema_conflict"
    """Existing objects of the type do not match the new schema; nothing was changed. The
    details hold `invalid` (how many) and `objects` (the first few: `id` and `violations`):
    fix or delete them, then set the schema again."""
    FILTER_INVALID = "tentacle.filter_invalid"
    """Unknown operator, forbidden field path, wrong operand, or a filter too large."""
    REGEX_REJECTED = "tentacle.regex_rejected"
    """A `$regex` too long, invalid, or of a shape that can take exponential time."""
    CURSOR_INVALID = "tentacle.cursor_invalid"
    """The cursor is not one this query returned."""
    QUERY_TIMEOUT = "tentacle.query_timeout"
    """The query ran past its statement timeout; narrow the filter."""
    MEMORY_NOT_FOUND = "tentacle.memory_not_found"
    """No such memory (or version) visible to the caller in this organisation."""
    MEMORY_VERSION_CONFLICT = "tentacle.memory_version_conflict"
    MEMORY_INVALID = "tentacle.memory_invalid"
