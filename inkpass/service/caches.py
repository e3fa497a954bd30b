"""inkpass's in-process caches: API keys and authorization inputs.

Both are dropped by events (a revoked key, an org whose roles, attributes or policies changed),
including events from other replicas, and entries also age out after `ttl` as a safety net. A
cache miss reads PostgreSQL, which stays the only source of truth.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from inkpass.adapters.apikeys import ApiKey
from inkpass.domain.policy import Policy, Principal

K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    def __init__(self, ttl: float, max_entries: int, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] < self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (value, self._clock() + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop(self, predicate: Callable[[K], bool]) -> None:
        for key in [k for k in self._entries if predicate(k)]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()


class ApiKeyCache:
    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._keys: _Lru[bytes, ApiKey] = _Lru(ttl, 50_000, clock)
        self._hashes: dict[str, bytes] = {}
        self._uses: dict[tuple[str, str], datetime] = {}
        self._revoked: set[str] = set()

    def get(self, key_hash: bytes) -> ApiKey | None:
        return self._keys.get(key_hash)

    def put(self, key_hash: bytes, key: ApiKey) -> None:
        # A revocation heard while this lookup was in flight must not be undone by caching.
        if key.id not in self._revoked:
            self._keys.put(key_hash, key)
            self._hashes[key.id] = key_hash

    def revoked(self, key_id: str) -> None:
        self._revoked.add(key_id)
        key_hash = self._hashes.pop(key_id, None)
        if key_hash is not None:
            self._keys.drop(lambda h: h == key_hash)

    def clear(self) -> None:
        self._keys.clear()
        self._hashes.clear()

    def used(self, key: ApiKey, when: datetime) -> None:
        self._uses[(key.org_id, key.id)] = when

    def take_uses(self) -> dict[tuple[str, str], datetime]:
        uses, self._uses = self._uses, {}
        return uses


@dataclass(frozen=True)
class OrgPolicies:
    epoch: int
    policies: list[Policy]


@dataclass(frozen=True)
class KnownPrincipal:
    """A cached answer to "who is this actor in this org": None if nobody allowed anything."""

    principal: Principal | None


class AuthzStore:
    """Per-org policies and per-actor principals, as the authorization check needs them."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._orgs: _Lru[str, OrgPolicies] = _Lru(ttl, 10_000, clock)
        self._principals: _Lru[tuple[str, str, str], KnownPrincipal] = _Lru(ttl, 100_000, clock)
        self._generation = 0

    @property
    def generation(self) -> int:
        """Bumped by every invalidation: a load that straddles one is not cached."""
        return self._generation

    def policies(self, org_id: str) -> OrgPolicies | None:
        return self._orgs.get(org_id)

    def put_policies(self, org_id: str, value: OrgPolicies, generation: int) -> None:
        if generation == self._generation:
            self._orgs.put(org_id, value)

    def principal(self, org_id: str, kind: str, actor_id: str) -> KnownPrincipal | None:
        return self._principals.get((org_id, kind, actor_id))

    def put_principal(
        self, org_id: str, kind: str, actor_id: str, value: KnownPrincipal, generation: int
    ) -> None:
        if generation == self._generation:
            self._principals.put((org_id, kind, actor_id), value)

    def drop_org(self, org_id: str) -> None:
        self._generation += 1
        self._orgs.drop(lambda k: k == org_id)
        self._principals.drop(lambda k: k[0] == org_id)

    def drop_key(self, key_id: str) -> None:
        self._generation += 1
        self._principals.drop(lambda k: k[1] == "api_key" and k[2] == key_id)

    def clear(self) -> None:
        self._generation += 1
        self._orgs.clear()
        self._principals.clear()
