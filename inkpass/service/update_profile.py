"""Change the display name (the only field of a profile that is the person's to set here)."""

from __future__ import annotations

from contracts.inkpass.models import ProfileV1, UpdateProfileV1
from inkpass.adapters import users
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.profiles import profile_of
from inkpass.service.tx import transaction


async def update_profile(deps: Deps, request: UpdateProfileV1) -> ProfileV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        await users.change(tx.session, me.user_id, display_name=request.display_name)
        return await profile_of(tx, me.user_id)
