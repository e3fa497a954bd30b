"""JWTs of the platform: HS256 only, typed, with issuer, audience, expiry and not-before.

inkpass issues them; any process may verify them with the same codec. Verification is strict:

* the header must say HS256 (so `none`, HS512, RS256 and every key-confusion trick fail before
  any signature is computed), and the signature must match the derived key;
* `iss`, `aud`, `exp`, `nbf`, `iat` are required and checked with a small leeway;
* the token's type (`typ` claim) must be the one the caller expects: a refresh token is never an
  access token, and an MFA challenge is neither;
* ids must be subject tokens and roles known roles, so a claim can be used without re-checking.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from contracts.ids import is_token
from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.types import MAX_TOKEN_CHARS, Role, TokenKind
from shared.auth.errors import TokenRejected

ALGORITHM: Final = "HS256"
ISSUER: Final = "fluxos-inkpass"
AUDIENCE: Final = "fluxos"
LEEWAY_S: Final = 10
ACCESS_TTL_S: Final = 30 * 60
REFRESH_TTL_S: Final = 7 * 24 * 3600
MFA_TTL_S: Final = 5 * 60

_ROLES: Final = {r.value: r for r in Role}
_KINDS: Final = {k.value: k for k in TokenKind}


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says."""

    kind: TokenKind
    user_id: str
    session_id: str | None
    org_id: str | None
    roles: tuple[Role, ...]
    mfa: bool
    token_id: str
    issued_at: int
    expires_at: int
    generation: int | None = None
    """Refresh tokens: the session's rotation counter when the token was issued."""
    stamp: str | None = None
    """MFA challenges: the account's security stamp (a password change voids the challenge)."""


def _invalid(message: str) -> TokenRejected:
    return TokenRejected(InkPassErrorCode.TOKEN_INVALID, message)


class TokenCodec:
    def __init__(
        self,
        key: bytes,
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        leeway_s: int = LEEWAY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(key) < 32:
            raise ValueError("an HS256 key must have at least 256 bits")
        self._key = OctKey.import_key(key)
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self._clock = clock
        self._header = {"alg": ALGORITHM, "typ": "JWT"}

    def now(self) -> int:
        return int(self._clock())

    # ------------------------------------------------------------------ issuing
    def issue(
        self,
        kind: TokenKind,
        *,
        user_id: str,
        ttl_s: int,
        session_id: str | None = None,
        org_id: str | None = None,
        roles: Sequence[Role] = (),
        mfa: bool = False,
        generation: int | None = None,
        stamp: str | None = None,
    ) -> tuple[str, Claims]:
        now = self.now()
        claims = Claims(
            kind=kind,
            user_id=user_id,
            session_id=session_id,
            org_id=org_id,
            roles=tuple(roles),
            mfa=mfa,
            token_id=secrets.token_urlsafe(16),
            issued_at=now,
            expires_at=now + ttl_s,
            generation=generation,
            stamp=stamp,
        )
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "iat": now,
            "nbf": now,
            "exp": claims.expires_at,
            "jti": claims.token_id,
            "typ": kind.value,
        }
        if session_id is not None:
            payload["sid"] = session_id
        if org_id is not None:
            payload["org"] = org_id
        if roles:
            payload["roles"] = [r.value for r in roles]
        if mfa:
            payload["mfa"] = True
        if generation is not None:
            payload["gen"] = generation
        if stamp is not None:
            payload["stamp"] = stamp
        return jwt.encode(self._header, payload, self._key, algorithms=[ALGORITHM]), claims

    # ------------------------------------------------------------------ verifying
    def decode(self, token: str, *, expect: TokenKind) -> Claims:
        """The claims of a valid token of kind `expect`, or `TokenRejected` with its code."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise _invalid("not a compact JWT")
        try:
            # Only HS256 is accepted: the header's algorithm is checked against this list
            # before the signature, so `none` or an RS256 header never reaches a verifier.
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except JoseError as exc:
            raise _invalid(f"the token does not verify ({exc.error})") from None
        except (ValueError, TypeError):
            raise _invalid("the token is malformed") from None
        header = decoded.header
        if header.get("alg") != ALGORITHM or "crit" in header:
            raise _invalid("unexpected token header")
        return self._claims(decoded.claims, expect)

    def _claims(self, raw: dict[str, Any], expect: TokenKind) -> Claims:
        now = self.now()
        if raw.get("iss") != self.issuer or raw.get("aud") != self.audience:
            raise _invalid("wrong issuer or audience")
        exp, nbf, iat = raw.get("exp"), raw.get("nbf"), raw.get("iat")
        # `type(...) is int` rather than isinstance: True is an int to isinstance.
        if type(exp) is not int or type(nbf) is not int or type(iat) is not int:
            raise _invalid("exp, nbf and iat must be integer times")
        if exp <= now - self.leeway_s:
            raise TokenRejected(InkPassErrorCode.TOKEN_EXPIRED, "the token has expired")
        if nbf > now + self.leeway_s or iat > now + self.leeway_s:
            raise _invalid("the token is not valid yet")
        kind = _KINDS.get(raw.get("typ"))  # type: ignore[arg-type]
        if kind is None:
            raise _invalid("the token has no known type")
        if kind is not expect:
            raise TokenRejected(
                InkPassErrorCode.TOKEN_WRONG_TYPE, f"a {kind.value} token, not {expect.value}"
            )
        sub, sid, org, jti = raw.get("sub"), raw.get("sid"), raw.get("org"), raw.get("jti")
        if not (isinstance(sub, str) and is_token(sub)) or not isinstance(jti, str):
            raise _invalid("bad subject or token id")
        for value in (sid, org):
            if value is not None and not (isinstance(value, str) and is_token(value)):
                raise _invalid("bad session or organisation id")
        if kind is not TokenKind.MFA and (sid is None or org is None):
            raise _invalid("the token names no session")
        roles_raw = raw.get("roles", [])
        if not isinstance(roles_raw, list) or any(r not in _ROLES for r in roles_raw):
            raise _invalid("unknown role")
        generation, stamp = raw.get("gen"), raw.get("stamp")
        if kind is TokenKind.REFRESH and type(generation) is not int:
            raise _invalid("a refresh token needs its generation")
        if stamp is not None and not isinstance(stamp, str):
            raise _invalid("bad stamp")
        return Claims(
            kind=kind,
            user_id=sub,
            session_id=sid,
            org_id=org,
            roles=tuple(_ROLES[r] for r in roles_raw),
            mfa=raw.get("mfa") is True,
            token_id=jti,
            issued_at=iat,
            expires_at=exp,
            generation=generation if type(generation) is int else None,
            stamp=stamp,
        )
