"""The web session: inkpass's tokens in cookies, refreshed on the way when the access one ends.

Cookies are HttpOnly and SameSite=Strict (a page on another site cannot make the browser send
them), and every form or API call that changes something and rides on a cookie must come from
the inbox's own origin (checked on the Origin header), so no other site can act for a person.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import SecretStr

from contracts.inkpass import subjects as ip
from contracts.inkpass.models import RefreshSessionV1, TokenPairV1
from inbox.domain.errors import InboxError
from inbox.entrypoints.http.deps import ACCESS_COOKIE, REFRESH_COOKIE, check_same_origin
from inbox.service.auth import Principal, authenticate
from inbox.service.context import Inbox
from inbox.service.remote import as_http_error
from shared.errors import FluxosError

check_origin = check_same_origin


def set_session(response: Response, tokens: TokenPairV1, *, secure: bool) -> None:
    common: dict[str, Any] = {"httponly": True, "samesite": "strict", "secure": secure}
    response.set_cookie(
        ACCESS_COOKIE, tokens.access_token.get_secret_value(), max_age=tokens.expires_in, **common
    )
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token.get_secret_value(),
        max_age=tokens.refresh_expires_in,
        **common,
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(ACCESS_COOKIE)
    response.delete_cookie(REFRESH_COOKIE)


async def web_principal(request: Request, inbox: Inbox) -> Principal | None:
    """The signed-in person, refreshing the session if only the refresh cookie is still good."""
    access = request.cookies.get(ACCESS_COOKIE)
    if access:
        try:
            return await authenticate(inbox, access)
        except InboxError:
            pass
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        return None
    try:
        tokens = await inbox.bus.request(
            ip.REFRESH, RefreshSessionV1(refresh_token=SecretStr(refresh)), timeout=inbox.timeout
        )
    except FluxosError as exc:
        if as_http_error(exc).http_status >= 500:
            raise as_http_error(exc) from None
        return None
    request.state.new_tokens = tokens
    return await authenticate(inbox, tokens.access_token.get_secret_value())


def carry_session(request: Request, response: Response, *, secure: bool) -> Response:
    tokens = getattr(request.state, "new_tokens", None)
    if tokens is not None:
        set_session(response, tokens, secure=secure)
    return response
