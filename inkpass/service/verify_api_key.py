"""Who an API key speaks for. Warm keys are answered from memory without touching PostgreSQL.

Malformed keys and bad checksums are refused before any lookup; an unknown, revoked or expired
key gets the same `api_key_invalid`. Last use is recorded in memory and written in batches
(`flush_key_uses`), so verification never waits for a write.
"""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import ApiKeyPrincipalV1, VerifyApiKeyV1
from inkpass.adapters import apikeys
from inkpass.adapters.apikeys import ApiKey
from inkpass.domain import apikeys as key_format
from inkpass.domain.errors import InkPassError
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction


def _invalid() -> InkPassError:
    return InkPassError(InkPassErrorCode.API_KEY_INVALID, "the API key is not valid")


async def verify_api_key(deps: Deps, request: VerifyApiKeyV1) -> ApiKeyPrincipalV1:
    parsed = key_format.parse(request.key.get_secret_value())
    if parsed is None:
        raise _invalid()
    now = deps.now()
    key: ApiKey | None = deps.api_keys.get(parsed.key_hash)
    if key is None:
        async with transaction(deps, parsed.org_id) as tx:
            key = await apikeys.by_hash(tx.session, parsed.key_hash)
        if key is None or key.org_id != parsed.org_id:
            raise _invalid()
        if key.usable(now):
            deps.api_keys.put(parsed.key_hash, key)
    if not key.usable(now):
        raise _invalid()
    deps.api_keys.used(key, now)
    return ApiKeyPrincipalV1(
        key_id=key.id,
        org_id=key.org_id,
        scopes=list(key.scopes),
        created_by=key.created_by,
        expires_at=key.expires_at,
    )
