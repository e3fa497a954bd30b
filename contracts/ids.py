"""Identifiers that may travel as NATS subject tokens.

A token must never contain `.`, `*`, `>` or whitespace, or a publisher could address subjects it
does not own (an org id of `acme.>` would match every tenant). The allowed alphabet is narrower
than NATS requires on purpose: letters, digits, `_` and `-` cover UUIDs and slugs.
"""

from __future__ import annotations

import os
import re
import time
from typing import Annotated, Final

from pydantic import StringConstraints

TOKEN_PATTERN: Final = r"^[A-Za-z0-9_-]{1,128}$"
_TOKEN_RE: Final = re.compile(TOKEN_PATTERN)

SubjectToken = Annotated[str, StringConstraints(pattern=TOKEN_PATTERN)]
"""A string that is safe to put into a subject as one token."""

OrgId = SubjectToken
MessageId = SubjectToken
CallId = SubjectToken
ServiceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]


class InvalidToken(ValueError):
    """A value that cannot be used as a subject token."""


def validate_token(value: str, *, name: str = "token") -> str:
    if not isinstance(value, str) or not _TOKEN_RE.fullmatch(value):
        raise InvalidToken(
            f"{name} {value!r} cannot be a subject token: use 1-128 of A-Z a-z 0-9 _ -"
        )
    return value


def is_token(value: str) -> bool:
    return isinstance(value, str) and _TOKEN_RE.fullmatch(value) is not None


def new_id() -> str:
    """A UUIDv7 string: unique, and ordered by creation time so indexes stay compact."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)
    h = f"{value:032x}"  # formatted by hand: uuid.UUID() costs more than the rest together
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
