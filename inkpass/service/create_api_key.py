"""Create a scoped API key. Its scopes may not exceed what the creator's role grants."""

from __future__ import annotations

from contracts.ids import new_id
from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import ApiKeyCreatedV1, AuditKind, CreateApiKeyV1
from inkpass.adapters import apikeys
from inkpass.domain import apikeys as key_format
from inkpass.domain.actions import pattern_covered
from inkpass.domain.errors import InkPassError
from inkpass.domain.roles import GRANTS, Actions
from inkpass.service.api_key_views import view
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def create_api_key(deps: Deps, request: CreateApiKeyV1) -> ApiKeyCreatedV1:
    claims = claims_of(deps, request.access_token)
    if request.expires_at is not None and request.expires_at <= deps.now():
        raise InkPassError(InkPassErrorCode.CONFLICT, "the expiry is in the past")
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        await require(
            deps,
            tx.session,
            org_id=me.org_id,
            user_id=me.user_id,
            role=me.role,
            mfa=claims.mfa,
            action=Actions.APIKEY_CREATE,
        )
        grant = GRANTS[me.role]
        too_wide = [s for s in request.scopes if not pattern_covered(s, list(grant.allow))]
        if too_wide:
            raise InkPassError(
                InkPassErrorCode.SCOPE_EXCEEDS_ROLE,
                f"a {me.role.value} cannot grant {', '.join(too_wide)}",
            )
        secret = key_format.new_key(me.org_id)
        parsed = key_format.parse(secret)
        assert parsed is not None
        key = await apikeys.create(
            tx.session,
            key_id=new_id(),
            org_id=me.org_id,
            name=request.name,
            prefix=parsed.display,
            key_hash=parsed.key_hash,
            scopes=sorted(set(request.scopes)),
            created_by=me.user_id,
            expires_at=request.expires_at,
        )
        await audit(
            tx,
            deps,
            AuditKind.API_KEY_CREATED,
            org_id=me.org_id,
            user_id=me.user_id,
            key_id=key.id,
            scopes=",".join(key.scopes),
        )
    return ApiKeyCreatedV1(key=view(key), secret=secret)  # type: ignore[arg-type]
