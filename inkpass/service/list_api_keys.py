"""The organisation's API keys (never their secrets: only hashes are kept)."""

from __future__ import annotations

from contracts.inkpass.models import ApiKeyListV1, ListApiKeysV1
from inkpass.adapters import apikeys
from inkpass.domain.roles import Actions
from inkpass.service.api_key_views import view
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction


async def list_api_keys(deps: Deps, request: ListApiKeysV1) -> ApiKeyListV1:
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
            action=Actions.APIKEY_LIST,
        )
        keys = await apikeys.in_org(tx.session, me.org_id)
    return ApiKeyListV1(keys=[view(k) for k in keys])
