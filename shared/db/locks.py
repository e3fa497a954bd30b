"""Advisory lock keys, one per kind of work that must not run twice at once."""

from __future__ import annotations

import hashlib


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock(bigint) from a readable name."""
    digest = hashlib.sha256(f"fluxos:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
