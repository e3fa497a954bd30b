"""Authorization for any service: ask inkpass, cache what it says may be cached.

    authz = AuthzClient(bus)
    await authz.start()        # follows inkpass.v1.evt.authz.*.changed
    decision = await authz.check(AuthzCheckV1(...))

A decision is cached for the `cache_ttl_s` inkpass gave it (0 for decisions that depended on
the time or the request's context) and dropped as soon as inkpass announces that the org's
roles, attributes or policies changed. After a reconnect everything is dropped: a change may
have been announced while this process could not hear it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.inkpass.models import AuthzChangedV1, AuthzCheckV1, AuthzDecisionV1
from contracts.inkpass.subjects import AUTHZ_CHANGED, AUTHZ_CHECK
from shared.bus import Bus
from shared.logging import get_logger

log = get_logger(__name__)

DEFAULT_MAX_ENTRIES: Final = 10_000

_Key = tuple[str, str]


class AuthzClient:
    def __init__(
        self,
        bus: Bus,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[_Key, tuple[AuthzDecisionV1, float]] = OrderedDict()
        self._sub: Subscription | None = None
        # Bumped by every change (and reconnect): a reply that was in flight across a bump may
        # predate the change, so it is returned but not cached.
        self._generation = 0
        self._epochs: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    async def start(self) -> None:
        self._sub = await self.bus.nc.subscribe(AUTHZ_CHANGED.wildcard, cb=self._on_changed)
        self.bus.on_reconnect(self.clear)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    async def check(self, request: AuthzCheckV1, *, timeout: float = 5.0) -> AuthzDecisionV1:
        key = (request.org_id, request.model_dump_json())
        cached = self._entries.get(key)
        if cached is not None:
            decision, until = cached
            if until > self._clock():
                self.hits += 1
                self._entries.move_to_end(key)
                return decision
            del self._entries[key]
        self.misses += 1
        generation = self._generation
        decision = await self.bus.request(
            AUTHZ_CHECK, request, org_id=request.org_id, timeout=timeout
        )
        fresh = generation == self._generation and decision.epoch >= self._epochs.get(
            request.org_id, 0
        )
        if fresh and decision.cache_ttl_s > 0:
            self._entries[key] = (decision, self._clock() + decision.cache_ttl_s)
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return decision

    def _drop_org(self, org_id: str) -> None:
        for key in [k for k in self._entries if k[0] == org_id]:
            del self._entries[key]

    async def _on_changed(self, msg: Msg) -> None:
        try:
            changed = Envelope[AuthzChangedV1].model_validate_json(msg.data).data
        except ValidationError:
            log.warning("auth.bad_authz_change", subject=msg.subject)
            return
        self._generation += 1
        self._epochs[changed.org_id] = max(changed.epoch, self._epochs.get(changed.org_id, 0))
        self._drop_org(changed.org_id)
