"""Opaque pagination cursors: the last row's sort key, base64url JSON, checked on the way in.

A cursor only says where the previous page ended; it grants nothing (every query still runs
under the caller's organisation), so it need not be signed, only well-formed.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.den.errors import DenErrorCode
from contracts.ids import SubjectToken
from den.domain.errors import DenError


class Position(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    section: str = "files"
    """Listings of a folder walk its folders first, then its files."""
    key: str
    id: SubjectToken


def encode(position: Position) -> str:
    raw = json.dumps(position.model_dump(), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str | None, *, sections: tuple[str, ...] = ("files",)) -> Position | None:
    if cursor is None:
        return None
    try:
        raw: Any = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = Position.model_validate(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise DenError(DenErrorCode.INVALID_CURSOR, "this cursor was not issued by den") from None
    if position.section not in sections:
        raise DenError(DenErrorCode.INVALID_CURSOR, "this cursor belongs to another listing")
    return position
