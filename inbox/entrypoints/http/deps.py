"""Request dependencies: the inbox, the caller, and the caller's address."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request

from inbox.domain.errors import Forbidden, Unauthenticated
from inbox.service.auth import Principal, authenticate, authorize
from inbox.service.context import Inbox

ACCESS_COOKIE: Final = "fluxos_access"
REFRESH_COOKIE: Final = "fluxos_refresh"


def get_inbox(request: Request) -> Inbox:
    inbox: Inbox = request.app.state.inbox
    return inbox


def credential_of(request: Request) -> str | None:
    """A bearer token or API key from the headers, else the web session's cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("use `Authorization: Bearer <token or API key>`")
        return value.strip()
    key = request.headers.get("x-api-key")
    if key is not None:
        return key.strip()
    return request.cookies.get(ACCESS_COOKIE)


async def get_principal(request: Request, inbox: Annotated[Inbox, Depends(get_inbox)]) -> Principal:
    credential = credential_of(request)
    if not credential:
        raise Unauthenticated("sign in, or send a bearer token or an API key")
    if "authorization" not in request.headers and "x-api-key" not in request.headers:
        check_same_origin(request)  # a cookie rides along with any site's request
    return await authenticate(inbox, credential)


def check_same_origin(request: Request) -> None:
    """Refuse a change that a page of another site asked the browser to make."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return  # browsers send Origin on every cross-site POST; its absence is not a browser
    if origin != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden("this request came from another site")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def authorize_caller(
    inbox: Inbox,
    principal: Principal,
    request: Request,
    action: str,
    kind: str,
    ident: str | None = None,
) -> None:
    """`authorize`, with the address the request came from: inkpass's audit and its address
    rules judge the caller by it."""
    await authorize(inbox, principal, action, kind, ident, source_ip=client_ip(request))


def user_agent(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[:256] if agent else None


InboxDep = Annotated[Inbox, Depends(get_inbox)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
