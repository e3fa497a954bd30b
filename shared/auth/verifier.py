"""Local verification of access tokens: no round trip, and revocations honoured within ms.

Any service builds one from its bus and verifies a bearer token on every request::

    verifier = LocalVerifier.from_bus(bus)
    await verifier.start()              # follows revocations; ready once caught up
    claims = verifier.verify(token)     # TokenRejected / RevocationsUnavailable, else Claims

`verify` is synchronous and cheap (one HMAC, a few dict lookups). It fails closed: while the
revocation feed is not caught up or the connection is down, it raises `RevocationsUnavailable`
(retryable) rather than accept a token whose revocation it might have missed.
"""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.types import TokenKind
from shared.auth.errors import RevocationsUnavailable, TokenRejected
from shared.auth.keys import token_signing_key
from shared.auth.revocations import RevocationCache, RevocationFeed
from shared.auth.tokens import Claims, TokenCodec
from shared.bus import Bus


class LocalVerifier:
    def __init__(self, codec: TokenCodec, cache: RevocationCache, feed: RevocationFeed) -> None:
        self.codec = codec
        self.cache = cache
        self.feed = feed

    @classmethod
    def from_bus(cls, bus: Bus) -> LocalVerifier:
        """A verifier keyed from the bus's platform settings and fed from the bus."""
        cache = RevocationCache()
        codec = TokenCodec(token_signing_key(bus.settings))
        return cls(codec, cache, RevocationFeed(bus, cache))

    async def start(self, *, timeout: float = 10.0) -> None:
        await self.feed.start(timeout=timeout)

    async def stop(self) -> None:
        await self.feed.stop()

    def verify(self, token: str, *, expect: TokenKind = TokenKind.ACCESS) -> Claims:
        if not self.feed.healthy:
            raise RevocationsUnavailable("revocations are not being received; try again")
        claims = self.codec.decode(token, expect=expect)
        if claims.session_id is not None and self.cache.is_revoked(claims.session_id):
            raise TokenRejected(InkPassErrorCode.TOKEN_REVOKED, "the session has ended")
        return claims
