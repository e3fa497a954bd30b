"""Signed URLs: an HMAC-SHA256 over what the URL may do, where, for whom and until when.

The signed message binds the purpose (`file` download or `upload`), the HTTP methods allowed,
the organisation, the object, the link id and the expiry, so a signature cannot be moved to
another file, org or method, or stretched in time. Verification refuses a URL whose expiry lies
further ahead than the maximum lifetime even if its signature is good (the maximum may have been
lowered since). Revocation is the caller's second check: links are recorded and can be revoked
one by one or per file, uploads by cancelling them.

The key comes from settings (`DEN_URL_SIGNING_KEY`, or derived from `FLUXOS_SECRET_KEY` with
HKDF), never from code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final

from contracts.den.errors import DenErrorCode
from den.domain.errors import DenError
from shared.kdf import derive_subkey

_VERSION: Final = b"den-url-v1"
_HKDF_INFO: Final = b"fluxos/den/url-signing/v1"
_CLOCK_SKEW_S: Final = 60
_EXPIRES: Final = re.compile(r"[0-9]{1,12}")


def derive_key(secret: bytes) -> bytes:
    return derive_subkey(secret, _HKDF_INFO)


@dataclass(frozen=True, slots=True)
class UrlClaims:
    purpose: str
    methods: frozenset[str]
    org_id: str
    object_id: str
    link_id: str
    expires: int
    """Unix seconds."""

    def message(self) -> bytes:
        # Every field is a checked id, a method name or a number: none holds a newline.
        parts = (
            self.purpose,
            ",".join(sorted(self.methods)),
            self.org_id,
            self.object_id,
            self.link_id,
            str(self.expires),
        )
        return _VERSION + b"\n" + "\n".join(parts).encode()

    def allows(self, method: str) -> bool:
        # HEAD is GET without a body (RFC 9110), so a GET link answers HEAD too.
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UrlSigner:
    def __init__(self, key: bytes, *, max_lifetime_s: int) -> None:
        if len(key) < 32:
            raise ValueError("a URL signing key has at least 32 bytes")
        self._key = key
        self.max_lifetime_s = max_lifetime_s

    def sign(self, claims: UrlClaims) -> str:
        return _b64(hmac.new(self._key, claims.message(), hashlib.sha256).digest())

    def verify(self, claims: UrlClaims, signature: str | None, *, method: str, now: int) -> None:
        """Raise the precise reason a request may not use this URL; return if it may."""
        if not signature:
            raise DenError(DenErrorCode.INVALID_SIGNATURE, "this URL needs a signature")
        try:
            given = _unb64(signature)
        except (binascii.Error, ValueError):
            raise DenError(DenErrorCode.INVALID_SIGNATURE, "malformed signature") from None
        if not hmac.compare_digest(given, _unb64(self.sign(claims))):
            raise DenError(DenErrorCode.INVALID_SIGNATURE, "the signature does not match")
        if not claims.allows(method):
            raise DenError(DenErrorCode.INVALID_SIGNATURE, f"this URL is not valid for {method}")
        if claims.expires < now:
            raise DenError(DenErrorCode.URL_EXPIRED, "this URL has expired")
        if claims.expires - now > self.max_lifetime_s + _CLOCK_SKEW_S:
            raise DenError(DenErrorCode.INVALID_SIGNATURE, "this URL outlives the maximum lifetime")


def parse_expires(value: str | None) -> int:
    if value is None or not _EXPIRES.fullmatch(value):
        raise DenError(DenErrorCode.INVALID_SIGNATURE, "missing or malformed expiry")
    return int(value)
