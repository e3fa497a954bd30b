"""Who is asking: a bearer token checked locally, then its session checked in PostgreSQL; or,
for operator actions, the platform itself."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from contracts.envelope import ActorKind, Meta
from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.types import Role, TokenKind
from inkpass.adapters import sessions
from inkpass.domain.errors import InkPassError, forbidden
from inkpass.service.deps import Deps
from inkpass.service.tx import Tx
from shared.auth import Claims, TokenRejected


def claims_of(deps: Deps, token: SecretStr, *, expect: TokenKind = TokenKind.ACCESS) -> Claims:
    """Signature, claims, type and the revocation cache: no database."""
    if expect is TokenKind.ACCESS:
        return deps.verifier.verify(token.get_secret_value())
    return deps.codec.decode(token.get_secret_value(), expect=expect)


@dataclass(frozen=True)
class Caller:
    claims: Claims
    session: sessions.Session
    role: Role

    @property
    def user_id(self) -> str:
        return self.claims.user_id

    @property
    def org_id(self) -> str:
        assert self.session.org_id is not None
        return self.session.org_id


async def caller(tx: Tx, claims: Claims) -> Caller:
    """The live session behind `claims`, in a transaction scoped to the token's org."""
    assert claims.session_id is not None
    live = await sessions.live(tx.session, claims.session_id)
    if live is None or live.session.user_id != claims.user_id:
        raise TokenRejected(InkPassErrorCode.TOKEN_REVOKED, "the session has ended")
    if not live.user_active:
        raise InkPassError(InkPassErrorCode.ACCOUNT_DISABLED, "the account is disabled")
    return Caller(claims, live.session, live.role)


def operator_of(meta: Meta) -> str:
    """The system actor behind an operator request, else `forbidden`.

    People reach the bus only through the edge services, which set the actor from the
    authenticated caller, so no person can present themselves as the platform.
    """
    if meta.actor.kind is not ActorKind.SYSTEM:
        raise forbidden("only the platform may do this")
    return meta.actor.id
