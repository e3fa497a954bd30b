"""Begin a Google sign-in: state, nonce and PKCE verifier stored (10 minutes, single use).

The state is returned too: the edge keeps it in the browser (a cookie) and checks that the
callback carries the same one, which binds the flow to the browser that started it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import OAuthRedirectV1, StartOAuthV1
from inkpass.adapters import oauth_store
from inkpass.domain.errors import InkPassError
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction

FLOW_TTL = timedelta(minutes=10)


async def start_oauth(deps: Deps, request: StartOAuthV1) -> OAuthRedirectV1:
    if deps.oauth is None:
        raise InkPassError(InkPassErrorCode.OAUTH_NOT_CONFIGURED, "Google sign-in is not set up")
    if request.redirect_uri not in deps.settings.oauth_redirect_uris:
        raise InkPassError(
            InkPassErrorCode.OAUTH_REDIRECT_NOT_ALLOWED, "this redirect URI is not registered"
        )
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 chars: within RFC 7636's 43..128
    url = await deps.oauth.authorization_url(
        redirect_uri=request.redirect_uri, state=state, nonce=nonce, code_verifier=verifier
    )
    expires_at = deps.now() + FLOW_TTL
    async with transaction(deps) as tx:
        await oauth_store.start(
            tx.session,
            deps.keyring,
            state=state,
            provider=request.provider.value,
            nonce=nonce,
            code_verifier=verifier,
            redirect_uri=request.redirect_uri,
            org_id=request.org_id,
            expires_at=expires_at,
        )
    return OAuthRedirectV1(authorization_url=url, state=state, expires_at=expires_at)  # type: ignore[arg-type]
