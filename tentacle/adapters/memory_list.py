"""Pages of the memories a principal may read, most recently changed first.

The cursor is the last row's (updated_at, key); rows are ordered by both, descending, so a
page continues exactly where the previous one stopped even when many share one time.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Final

from tentacle.adapters.pg import Conn

_COLUMNS: Final = (
    "org_id, key, title, body, topic, tags, source, tier, readers, owner, task_id, version,"
    " created_by, updated_by, created_at, updated_at"
)
_PAGE: Final = f"""
    SELECT {_COLUMNS} FROM memories
     WHERE org_id = $1 AND (cardinality(readers) = 0 OR $2 = ANY(readers) OR owner = $2)
       AND ($3::text IS NULL OR tier = $3)
       AND ($4::text IS NULL OR topic = $4)
       AND (cardinality($5::text[]) = 0 OR tags && $5)
       AND ($6::timestamptz IS NULL OR (updated_at, key) < ($6, $7::text))
     ORDER BY updated_at DESC, key DESC
     LIMIT $8
"""  # noqa: S608 - constant column list, bound values


class CursorInvalid(ValueError):
    pass


def encode_cursor(updated_at: datetime, key: str) -> str:
    raw = json.dumps([updated_at.isoformat(), key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        stamp, key = value
        if not isinstance(stamp, str) or not isinstance(key, str):
            raise CursorInvalid("not a cursor of this list")
        moment = datetime.fromisoformat(stamp)
    except CursorInvalid:
        raise
    except (binascii.Error, ValueError, TypeError) as exc:
        raise CursorInvalid("not a cursor of this list") from exc
    if moment.tzinfo is None:
        raise CursorInvalid("not a cursor of this list")
    return moment, key


async def page(
    conn: Conn,
    org_id: str,
    who: str,
    *,
    tier: str | None,
    topic: str | None,
    tags: list[str],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Any]:
    stamp, key = after if after is not None else (None, None)
    return list(await conn.fetch(_PAGE, org_id, who, tier, topic, tags, stamp, key, limit))
