"""Revoke an API key: refused from the next request on, on every replica.

This replica drops it from its cache after the commit; the others when the `apikey.revoked`
event (published right after the commit) reaches them, a few milliseconds later.
"""

from __future__ import annotations

from contracts.inkpass.models import ApiKeyRevokedV1, ApiKeyV1, AuditKind, RevokeApiKeyV1
from contracts.inkpass.subjects import API_KEY_REVOKED
from inkpass.adapters import apikeys
from inkpass.domain.errors import not_found
from inkpass.domain.roles import Actions
from inkpass.service.api_key_views import view
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def revoke_api_key(deps: Deps, request: RevokeApiKeyV1) -> ApiKeyV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        await require(
            deps,
            tx.session,
            org_id=me.org_id,
            user_id=me.user_id,
            role=me.role,
            mfa=claims.mfa,
            action=Actions.APIKEY_REVOKE,
            resource={"type": "api_key", "id": request.key_id, "attributes": {}},
        )
        # Another org's key is invisible here (row-level security): it is "not found".
        key = await apikeys.revoke(tx.session, request.key_id)
        if key is None:
            raise not_found("API key")
        tx.publish(
            deps.bus.message(
                API_KEY_REVOKED,
                ApiKeyRevokedV1(org_id=me.org_id, key_id=key.id),
                org_id=me.org_id,
            )
        )
        tx.after_commit(lambda: deps.api_keys.revoked(key.id))
        tx.after_commit(lambda: deps.authz.drop_key(key.id))
        await audit(
            tx, deps, AuditKind.API_KEY_REVOKED, org_id=me.org_id, user_id=me.user_id, key_id=key.id
        )
    return view(key)
