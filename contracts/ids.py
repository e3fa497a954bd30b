"""Identifiers that may travel as NATS subject tokens.

A token must never contain `.`, `*`, `>` or whitespace, or a publisher could address subjects it
does not own (an org id of `acme.>` would match every tenant). The allowed alphabet is narrower
than NATS requires on purpose: letters, digits, `_` and `-` cover UUIDs and slugs.
"""

from __future__ import annotations

import os
import re
import threading
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


class _Entropy:
    """os.urandom in blocks: one system call serves many ids (ids are made per message)."""

    __slots__ = ("_buf", "_lock", "_pid", "_pos")

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0
        self._pid = -1
        # Two threads taking the same bytes would mint the same id.
        self._lock = threading.Lock()

    def take(self, n: int) -> int:
        with self._lock:
            # A forked child must not replay its parent's remaining bytes.
            if self._pos + n > len(self._buf) or self._pid != os.getpid():
                self._buf = os.urandom(4096)
                self._pos = 0
                self._pid = os.getpid()
            chunk = self._buf[self._pos : self._pos + n]
            self._pos += n
        return int.from_bytes(chunk, "big")


_entropy = _Entropy()


def new_id() -> str:
    """A UUIDv7 string: unique, and ordered by creation time so indexes stay compact."""
    unix_ms = time.time_ns() // 1_000_000
    rand = _entropy.take(10)
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)
    h = f"{value:032x}"  # formatted by hand: uuid.UUID() costs more than the rest together
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
