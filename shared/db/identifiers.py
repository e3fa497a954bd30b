"""PostgreSQL identifiers we build from settings and code, validated before they reach SQL.

DDL cannot take bind parameters for names, so every name is checked against a narrow alphabet
(lower-case, no quotes, within PostgreSQL's 63-byte limit) and then double-quoted. A name that
fails is a configuration error, never something to escape and hope.
"""

from __future__ import annotations

import re
from typing import Final

from shared.db.errors import DatabaseMisconfigured

MAX_IDENTIFIER_BYTES: Final = 63
_IDENTIFIER_RE: Final = re.compile(r"^[a-z_][a-z0-9_]*$")


def validate_identifier(name: str, *, what: str = "identifier") -> str:
    if (
        not isinstance(name, str)
        or not _IDENTIFIER_RE.fullmatch(name)
        or len(name) > MAX_IDENTIFIER_BYTES
    ):
        raise DatabaseMisconfigured(
            f"{what} {name!r} is not a valid name: use 1-{MAX_IDENTIFIER_BYTES} of a-z 0-9 _, "
            "starting with a letter or _"
        )
    return name


def quote_identifier(name: str, *, what: str = "identifier") -> str:
    """`name` validated and double-quoted, safe to place in DDL."""
    return f'"{validate_identifier(name, what=what)}"'


def quote_qualified(name: str, schema: str | None = None, *, what: str = "table") -> str:
    if schema is None:
        return quote_identifier(name, what=what)
    return f"{quote_identifier(schema, what='schema')}.{quote_identifier(name, what=what)}"
