"""A person's learned approvals: list them, revoke one."""

from __future__ import annotations

from contracts.envelope import Actor, Meta
from contracts.tentacle.checkpoints import (
    ListPreferencesV1,
    PreferenceListV1,
    PreferenceV1,
    RevokePreferenceV1,
)
from contracts.tentacle.errors import TentacleErrorCode
from tentacle.adapters import preference_store
from tentacle.domain import preferences
from tentacle.domain.errors import TentacleError
from tentacle.service.deps import Deps, require_org


def _view(deps: Deps, actor: Actor, key: str, pref: preferences.Preference) -> PreferenceV1:
    now = deps.clock()
    policy = deps.policy.preferences
    return PreferenceV1(
        key=key,
        actor=actor,
        approvals=pref.approvals,
        score=round(preferences.decayed(pref, now, policy), 4),
        auto_approve=preferences.auto_approves(pref, now, policy),
        last_approved_at=pref.last_approved_at,
        revoked_at=pref.revoked_at,
    )


async def list_preferences(deps: Deps, request: ListPreferencesV1, meta: Meta) -> PreferenceListV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        found = await preference_store.load(tx.conn, meta.actor, None)
    views = [_view(deps, meta.actor, key, pref) for key, pref in found.items()]
    if not request.include_revoked:
        views = [v for v in views if v.revoked_at is None or v.auto_approve]
    return PreferenceListV1(preferences=views)


async def revoke_preference(deps: Deps, request: RevokePreferenceV1, meta: Meta) -> PreferenceV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        found = await preference_store.load(tx.conn, meta.actor, [request.key])
        pref = found.get(request.key)
        if pref is None:
            raise TentacleError(
                TentacleErrorCode.PREFERENCE_NOT_FOUND, f"no learned approval for {request.key}"
            )
        after = preferences.revoked(pref, deps.clock())
        await preference_store.save(tx.conn, org_id, meta.actor, request.key, after)
    return _view(deps, meta.actor, request.key, after)
