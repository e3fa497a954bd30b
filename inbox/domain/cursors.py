"""Opaque pagination cursors: the sort key of the last item seen, signed so it cannot be forged.

A cursor is `<base64url(json)>.<mac>`; a cursor that was altered, truncated or made for another
list or organisation fails the MAC and is refused with `inbox.invalid_cursor`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from inbox.domain.errors import InvalidCursor

_MAX_CHARS = 512


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, scope: str, body: str) -> str:
        digest = hmac.new(self._key, f"{scope}\x00{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")

    def encode(self, scope: str, values: list[Any]) -> str:
        raw = json.dumps(values, separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{body}.{self._mac(scope, body)}"

    def decode(self, scope: str, cursor: str, arity: int) -> list[Any]:
        if len(cursor) > _MAX_CHARS or cursor.count(".") != 1:
            raise InvalidCursor("the cursor is not one this list gave out")
        body, mac = cursor.split(".")
        if not hmac.compare_digest(mac, self._mac(scope, body)):
            raise InvalidCursor("the cursor is not one this list gave out")
        try:
            values = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            raise InvalidCursor("the cursor is damaged") from None
        if not isinstance(values, list) or len(values) != arity:
            raise InvalidCursor("the cursor is damaged")
        return values
