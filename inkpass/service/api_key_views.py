"""The wire view of a stored API key."""

from __future__ import annotations

from contracts.inkpass.models import ApiKeyV1
from inkpass.adapters.apikeys import ApiKey


def view(key: ApiKey) -> ApiKeyV1:
    return ApiKeyV1(
        key_id=key.id,
        org_id=key.org_id,
        name=key.name,
        prefix=key.prefix,
        scopes=list(key.scopes),
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )
