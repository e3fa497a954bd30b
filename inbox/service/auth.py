"""Who is asking, and may they: bearer tokens and API keys, each action checked with inkpass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from contracts.envelope import Actor, ActorKind
from contracts.inkpass.models import (
    ActorRefV1,
    ActorType,
    AuthzCheckV1,
    AuthzContextV1,
    ResourceRefV1,
)
from inbox.domain.errors import Forbidden, Unauthenticated
from inbox.service.context import Inbox
from inbox.service.remote import as_http_error
from shared.auth import RevocationsUnavailable, TokenRejected
from shared.errors import FluxosError

API_KEY_PREFIX: Final = "fxk_"


@dataclass(frozen=True, slots=True)
class Principal:
    type: ActorType
    id: str
    org_id: str
    user_id: str
    """The person: the signed-in user, or the creator of the API key."""
    credential: str
    """The token or key the request came with (kept in memory only, for re-checks)."""
    expires_at: float | None = None

    @property
    def access_token(self) -> str | None:
        """Users only: inkpass's account requests take the caller's own token."""
        return self.credential if self.type is ActorType.USER else None

    @property
    def actor(self) -> Actor:
        kind = ActorKind.USER if self.type is ActorType.USER else ActorKind.API_KEY
        return Actor(kind=kind, id=self.id)

    @property
    def ref(self) -> ActorRefV1:
        return ActorRefV1(type=self.type, id=self.id)


async def authenticate(inbox: Inbox, credential: str) -> Principal:
    credential = credential.strip()
    if not credential:
        raise Unauthenticated("sign in, or send a bearer token or an API key")
    if credential.startswith(API_KEY_PREFIX):
        try:
            key = await inbox.api_keys.verify(credential, timeout=inbox.timeout)
        except FluxosError as exc:
            raise as_http_error(exc) from None
        return Principal(
            type=ActorType.API_KEY,
            id=key.key_id,
            org_id=key.org_id,
            user_id=key.created_by,
            credential=credential,
            expires_at=key.expires_at.timestamp() if key.expires_at else None,
        )
    try:
        claims = inbox.verifier.verify(credential)
    except (TokenRejected, RevocationsUnavailable) as exc:
        raise as_http_error(exc) from None
    assert claims.org_id is not None  # access tokens always name their org (checked on decode)
    return Principal(
        type=ActorType.USER,
        id=claims.user_id,
        org_id=claims.org_id,
        user_id=claims.user_id,
        credential=credential,
        expires_at=float(claims.expires_at),
    )


async def still_valid(inbox: Inbox, principal: Principal) -> bool:
    """For long-lived streams: is the credential they opened with still good?"""
    try:
        if principal.type is ActorType.USER:
            inbox.verifier.verify(principal.credential)
        else:
            await inbox.api_keys.verify(principal.credential, timeout=inbox.timeout)
    except FluxosError:
        return False
    return True


async def authorize(
    inbox: Inbox,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    *,
    source_ip: str | None = None,
) -> None:
    request = AuthzCheckV1(
        org_id=principal.org_id,
        actor=principal.ref,
        action=action,
        resource=ResourceRefV1(type=resource_type, id=resource_id),
        context=AuthzContextV1(source_ip=source_ip),
    )
    try:
        decision = await inbox.authz.check(request, timeout=inbox.timeout)
    except FluxosError as exc:
        raise as_http_error(exc) from None
    if not decision.allowed:
        raise Forbidden(f"not allowed to {action}", details={"reason": decision.reason})
