"""The signed-in person's profile."""

from __future__ import annotations

from contracts.inkpass.models import GetProfileV1, ProfileV1
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.profiles import profile_of
from inkpass.service.tx import transaction


async def get_profile(deps: Deps, request: GetProfileV1) -> ProfileV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        return await profile_of(tx, me.user_id)
