"""Authentication and authorization for every service, without importing inkpass.

* `TokenCodec`: issue and verify the platform's HS256 JWTs (inkpass issues; anyone verifies).
* `LocalVerifier`: verify access tokens in-process, refusing revoked sessions within
  milliseconds of their revocation (it follows inkpass's revocation events).
* `AuthzClient`: ask inkpass's `authz.check`, caching decisions until inkpass says they changed.

The key comes from `FLUXOS_SECRET_KEY` through HKDF (`token_signing_key`), never from code.
"""

from shared.auth.authz import AuthzClient
from shared.auth.errors import AuthMisconfigured, RevocationsUnavailable, TokenRejected
from shared.auth.keys import derive_key, token_signing_key
from shared.auth.revocations import RevocationCache, RevocationFeed
from shared.auth.tokens import ACCESS_TTL_S, MFA_TTL_S, REFRESH_TTL_S, Claims, TokenCodec
from shared.auth.verifier import LocalVerifier

__all__ = [
    "ACCESS_TTL_S",
    "MFA_TTL_S",
    "REFRESH_TTL_S",
    "AuthMisconfigured",
    "AuthzClient",
    "Claims",
    "LocalVerifier",
    "RevocationCache",
    "RevocationFeed",
    "RevocationsUnavailable",
    "TokenCodec",
    "TokenRejected",
    "derive_key",
    "token_signing_key",
]
