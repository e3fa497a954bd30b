"""Signing in with Google from the web UI: inkpass runs the OpenID flow (state, nonce, PKCE,
ID token checks); the inbox sends the person there and, on the way back, opens their session.

The API has its own callback that answers with tokens as JSON; this one sets the session
cookies. It answers with a small page that moves on to the inbox rather than a redirect: the
provider's redirect is a cross-site navigation, and a browser does not send SameSite=Strict
cookies on a redirect chain that began on another site, so the next page would not see them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import SecretStr, ValidationError

from contracts.inkpass import subjects as ip
from contracts.inkpass.models import FinishOAuthV1, LoginStatus, OAuthProvider, StartOAuthV1
from inbox.domain.errors import InboxError, http_status
from inbox.entrypoints.http.auth_routes import ask
from inbox.entrypoints.http.deps import client_ip, get_inbox, user_agent
from inbox.entrypoints.web.pages import page
from inbox.entrypoints.web.session import set_session

router = APIRouter(include_in_schema=False)

_LANDING = "/inbox"


def _callback_url(request: Request) -> str:
    inbox = get_inbox(request)
    base = inbox.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/login/google/callback"


def _refused(request: Request, status: int, code: str, message: str) -> Response:
    return page(request, "login.html", status, error={"code": code, "message": message})


@router.get("/login/google")
async def start(request: Request) -> Response:
    inbox = get_inbox(request)
    payload = StartOAuthV1(provider=OAuthProvider.GOOGLE, redirect_uri=_callback_url(request))
    try:
        reply = await ask(inbox, ip.START_OAUTH, payload)
    except InboxError as exc:
        return _refused(request, http_status(exc), exc.code, exc.message)
    return RedirectResponse(reply.authorization_url, status_code=303)


@router.get("/login/google/callback")
async def finish(
    request: Request,
    state: Annotated[str | None, Query(max_length=200)] = None,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    if error is not None or not state or not code:
        # The person declined at Google, or the provider sent something else: no session.
        return _refused(
            request,
            400,
            "inbox.google_sign_in_failed",
            f"Google sign-in did not complete ({error or 'no code'}).",
        )
    inbox = get_inbox(request)
    try:
        payload = FinishOAuthV1(
            provider=OAuthProvider.GOOGLE,
            state=SecretStr(state),
            code=SecretStr(code),
            source_ip=client_ip(request),
            user_agent=user_agent(request),
        )
        result = await ask(inbox, ip.FINISH_OAUTH, payload)
    except ValidationError:
        return _refused(request, 400, "inbox.invalid_request", "That sign-in link is not valid.")
    except InboxError as exc:
        return _refused(request, http_status(exc), exc.code, exc.message)
    if result.status is LoginStatus.MFA_REQUIRED:
        assert result.mfa_token is not None
        return page(request, "mfa.html", mfa_token=result.mfa_token.get_secret_value(), next=None)
    response = HTMLResponse(
        '<!doctype html><meta charset="utf-8"><title>Signed in</title>'
        f'<meta http-equiv="refresh" content="0;url={_LANDING}">'
        f'<p>Signed in. <a href="{_LANDING}">Continue to your inbox</a></p>'
    )
    set_session(response, result.tokens, secure=inbox.settings.secure_cookies)
    return response
