"""Keeping inkpass's own caches honest across replicas: listen to what invalidates them.

Plain subscriptions (no durable consumer): a cache only needs what happens from now on, and
after a reconnect (when something may have been missed) both caches are simply emptied.
"""

from __future__ import annotations

from nats.aio.msg import Msg
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.inkpass.models import ApiKeyRevokedV1, AuthzChangedV1
from contracts.inkpass.subjects import API_KEY_REVOKED, AUTHZ_CHANGED
from inkpass.service.deps import Deps
from shared.logging import get_logger

log = get_logger(__name__)


async def listen(deps: Deps) -> None:
    async def on_key_revoked(msg: Msg) -> None:
        try:
            revoked = Envelope[ApiKeyRevokedV1].model_validate_json(msg.data).data
        except ValidationError:
            log.warning("inkpass.bad_cache_event", subject=msg.subject)
            deps.api_keys.clear()
            return
        deps.api_keys.revoked(revoked.key_id)
        deps.authz.drop_key(revoked.key_id)

    async def on_authz_changed(msg: Msg) -> None:
        try:
            changed = Envelope[AuthzChangedV1].model_validate_json(msg.data).data
        except ValidationError:
            log.warning("inkpass.bad_cache_event", subject=msg.subject)
            deps.authz.clear()
            return
        deps.authz.drop_org(changed.org_id)

    def on_reconnect() -> None:
        deps.api_keys.clear()
        deps.authz.clear()

    nc = deps.bus.nc
    await nc.subscribe(API_KEY_REVOKED.wildcard, cb=on_key_revoked)
    await nc.subscribe(AUTHZ_CHANGED.wildcard, cb=on_authz_changed)
    deps.bus.on_reconnect(on_reconnect)
