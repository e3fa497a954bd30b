"""The SHA-256 of uploads in progress, kept while one process receives them in order.

A whole-file digest cannot be stored mid-way (hashlib cannot export its state), so the process
that received bytes `0..offset` keeps the running hash. When a later request lands elsewhere (a
restart, another replica) the digest is recomputed from the stored parts at completion instead:
this cache only saves that re-read, correctness never depends on it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

_MAX_ENTRIES = 10_000


class RunningHashes:
    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[int, Any]] = OrderedDict()

    def take(self, upload_id: str, offset: int) -> Any | None:
        """The hash of bytes `0..offset` if this process has it (removed from the cache)."""
        if offset == 0:
            self._entries.pop(upload_id, None)
            return hashlib.sha256()
        entry = self._entries.pop(upload_id, None)
        if entry is None or entry[0] != offset:
            return None
        return entry[1]

    def keep(self, upload_id: str, offset: int, running: Any) -> None:
        self._entries[upload_id] = (offset, running)
        self._entries.move_to_end(upload_id)
        while len(self._entries) > _MAX_ENTRIES:
            self._entries.popitem(last=False)

    def forget(self, upload_id: str) -> None:
        self._entries.pop(upload_id, None)
