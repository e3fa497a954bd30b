"""Periodic work: write API keys' last use, forget expired codes, flows and counters."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from inkpass.adapters import apikeys, oauth_store, otps, throttle
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction


async def flush_key_uses(deps: Deps) -> int:
    uses = deps.api_keys.take_uses()
    by_org: dict[str, dict[str, datetime]] = defaultdict(dict)
    for (org_id, key_id), when in uses.items():
        by_org[org_id][key_id] = when
    for org_id, used in by_org.items():
        async with transaction(deps, org_id) as tx:
            await apikeys.touch(tx.session, used)
    return len(uses)


async def prune(deps: Deps) -> None:
    now = deps.now()
    horizon = timedelta(seconds=deps.settings.login_window_s + deps.settings.lock_max_s * 4)
    async with transaction(deps) as tx:
        await otps.prune(tx.session, now)
        await oauth_store.prune(tx.session, now)
        await throttle.prune(tx.session, now, max(horizon, timedelta(hours=2)))
