"""Request dependencies: the inbox, the caller, and the caller's address."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request

from inbox.domain.errors import Unauthenticated
from inbox.service.auth import Principal, authenticate
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
    return await authenticate(inbox, credential)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_agent(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[:256] if agent else None


InboxDep = Annotated[Inbox, Depends(get_inbox)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
