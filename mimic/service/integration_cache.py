"""Integrations by ingress path, cached for a few seconds.

Every webhook needs its integration (settings and sealed secrets); reading it from PostgreSQL
each time would cost more than everything else the ingress does. The cache holds rows as
stored (secrets still sealed) for `ttl` seconds: a disabled integration stops answering within
that time. It is a cache of the database, not state: losing it loses nothing.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from mimic.adapters import integrations as repo
from mimic.adapters.rows import AnyRow
from shared.db import Database


class IntegrationCache:
    def __init__(
        self,
        db: Database,
        *,
        ttl: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._rows: OrderedDict[tuple[str, str], tuple[float, AnyRow | None]] = OrderedDict()

    async def by_route(self, org_id: str, route_key: str) -> AnyRow | None:
        key = (org_id, route_key)
        now = self.clock()
        cached = self._rows.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self.db.transaction(org_id=org_id) as uow:
            row = await repo.by_route(uow.session, route_key)
        # Misses are cached too, so unknown paths cannot make every request a query.
        self._rows[key] = (now + self.ttl, row)
        self._rows.move_to_end(key)
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)
        return row
