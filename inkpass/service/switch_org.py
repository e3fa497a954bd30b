"""Open a session in another organisation the signed-in person belongs to."""

from __future__ import annotations

from contracts.inkpass.models import SwitchOrgV1, TokenPairV1
from inkpass.adapters import users
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.issuing import open_in, target_org
from inkpass.service.tx import transaction


async def switch_org(deps: Deps, request: SwitchOrgV1) -> TokenPairV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        user = await users.by_id(tx.session, me.user_id)
    assert user is not None
    org = await target_org(deps, user, request.org_id)
    async with transaction(deps, org) as tx:
        # Same person, same proof of identity: the new session keeps the second factor flag.
        return await open_in(
            tx, deps, user_id=user.id, stamp=user.security_stamp, mfa=claims.mfa, method="switch"
        )
