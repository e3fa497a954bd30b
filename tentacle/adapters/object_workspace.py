"""The fast path's view of workspace objects: `WorkspaceQueries.find` over the object store.

A query the store refuses or cannot answer in time means "plan it the usual way", never a
failed task: the fast path is only a shortcut.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg

from shared.db.errors import DatabaseTimeout
from tentacle.adapters import object_store
from tentacle.adapters.object_store import Order
from tentacle.adapters.pg import TaskDb
from tentacle.domain.fast_path import FastQuery
from tentacle.domain.object_filters import FilterInvalid
from tentacle.service.ports import WorkspaceUnavailable

TIMEOUT_MS: Final = 2_000


class ObjectWorkspace:
    def __init__(self, db: TaskDb) -> None:
        self._db = db

    async def find(self, org_id: str, query: FastQuery) -> list[dict[str, Any]]:
        order_by = query.order_by or "updated_at"
        # The most recently changed first; a data field (a start, a name) in its natural order.
        order = Order.parse(
            f"-{order_by}" if order_by in ("updated_at", "created_at") else order_by
        )
        try:
            async with self._db.transaction(org_id=org_id) as tx:
                await object_store.limit_statement(tx.conn, TIMEOUT_MS)
                page = await object_store.query(
                    tx.conn,
                    org_id,
                    object_type=query.object_type,
                    where=query.where,
                    tags_any=[],
                    tags_all=[],
                    order=order,
                    limit=query.limit,
                    cursor=None,
                )
        except (FilterInvalid, asyncpg.QueryCanceledError, DatabaseTimeout) as exc:
            raise WorkspaceUnavailable(f"the workspace cannot answer: {exc}") from exc
        return [object_store.to_object(r).model_dump(mode="json") for r in page.rows]
