"""The fast path's view of workspace objects.

Workspace objects (events, contacts, notes, ...) are not part of tentacle yet; until they are,
this adapter says so and every fast-path candidate is planned the usual way. Swapping in the
real query side means implementing `WorkspaceQueries.find` over the objects' store.
"""

from __future__ import annotations

from typing import Any

from tentacle.domain.fast_path import FastQuery
from tentacle.service.ports import WorkspaceUnavailable


class NoWorkspace:
    async def find(self, org_id: str, query: FastQuery) -> list[dict[str, Any]]:
        raise WorkspaceUnavailable("workspace objects are not available in this deployment")
