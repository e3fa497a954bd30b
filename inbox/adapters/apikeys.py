"""API keys verified by inkpass, remembered briefly, forgotten the moment one is revoked.

A key is looked up by the SHA-256 of its text; a positive answer is kept for `ttl_s` (bounded
in number), and inkpass's revocation events drop the key at once, so a revoked key stops
working within milliseconds on every replica rather than when its entry expires.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from datetime import UTC, datetime

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import SecretStr, ValidationError

from contracts.envelope import Envelope
from contracts.inkpass.models import ApiKeyPrincipalV1, ApiKeyRevokedV1, VerifyApiKeyV1
from contracts.inkpass.subjects import API_KEY_REVOKED, VERIFY_API_KEY
from shared.bus import Bus
from shared.logging import get_logger

log = get_logger(__name__)


def _expired(principal: ApiKeyPrincipalV1) -> bool:
    return principal.expires_at is not None and principal.expires_at <= datetime.now(UTC)


class ApiKeyCache:
    def __init__(self, bus: Bus, *, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        self.bus = bus
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[ApiKeyPrincipalV1, float]] = OrderedDict()
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self.bus.nc.subscribe(API_KEY_REVOKED.wildcard, cb=self._on_revoked)
        self.bus.on_reconnect(self._entries.clear)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

    async def verify(self, key: str, *, timeout: float) -> ApiKeyPrincipalV1:
        digest = hashlib.sha256(key.encode()).hexdigest()
        cached = self._entries.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now and not _expired(cached[0]):
            return cached[0]
        principal = await self.bus.request(
            VERIFY_API_KEY, VerifyApiKeyV1(key=SecretStr(key)), timeout=timeout
        )
        self._entries[digest] = (principal, now + self.ttl_s)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return principal

    async def _on_revoked(self, msg: Msg) -> None:
        try:
            revoked = Envelope[ApiKeyRevokedV1].model_validate_json(msg.data).data
        except ValidationError:
            log.warning("inbox.bad_api_key_revocation", subject=msg.subject)
            return
        for digest in [d for d, (p, _) in self._entries.items() if p.key_id == revoked.key_id]:
            del self._entries[digest]
