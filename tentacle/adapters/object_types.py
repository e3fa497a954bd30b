"""The organisation's object types: those with a schema, and those that hold objects."""

from __future__ import annotations

from typing import Any, Final

from tentacle.adapters.pg import Conn

MAX_TYPES: Final = 1000

_TYPES: Final = """
    SELECT coalesce(s.type, o.type) AS type, s.json_schema, coalesce(o.count, 0) AS count
      FROM (SELECT type, json_schema FROM workspace_object_types WHERE org_id = $1) AS s
      FULL JOIN (SELECT type, count(*) AS count FROM workspace_objects WHERE org_id = $1
                  GROUP BY type) AS o ON o.type = s.type
     ORDER BY 1
     LIMIT $2
"""


async def list_types(conn: Conn, org_id: str) -> list[Any]:
    return list(await conn.fetch(_TYPES, org_id, MAX_TYPES))
