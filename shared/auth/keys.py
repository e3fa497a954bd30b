"""The token signing key: derived from the platform secret for this one purpose, never in code.

Every process that verifies tokens locally derives the same key from `FLUXOS_SECRET_KEY` with
HKDF, bound to a purpose string, so the key used to sign tokens is unrelated to the keys derived
from the same secret for encryption at rest or anything else.
"""

from __future__ import annotations

from typing import Final

from shared.auth.errors import AuthMisconfigured
from shared.kdf import derive_subkey
from shared.settings import PlatformSettings

TOKEN_KEY_PURPOSE: Final = b"fluxos/auth/jwt-hs256/v1"
MIN_SECRET_CHARS: Final = 32


def derive_key(settings: PlatformSettings, purpose: bytes) -> bytes:
    """32 bytes for `purpose`, derived from the platform secret."""
    if settings.secret_key is None:
        raise AuthMisconfigured("tokens need FLUXOS_SECRET_KEY")
    secret = settings.secret_key.get_secret_value()
    if len(secret) < MIN_SECRET_CHARS:
        raise AuthMisconfigured(f"FLUXOS_SECRET_KEY must be at least {MIN_SECRET_CHARS} chars")
    return derive_subkey(secret.encode(), purpose)


def token_signing_key(settings: PlatformSettings) -> bytes:
    return derive_key(settings, TOKEN_KEY_PURPOSE)
