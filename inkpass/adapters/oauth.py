"""Google sign-in (OpenID Connect authorization-code flow) with authlib, state, nonce and PKCE.

authlib builds the authorization URL (with the S256 code challenge) and redeems the code (with
the verifier); the ID token is then checked here with joserfc against the provider's JWKS:
RS256 only, issuer, audience, authorized party, expiry, issue time and the nonce this flow
stored. Only then are its email claims believed.

The provider's addresses come from its discovery document (operator-configured URL), fetched
once and cached; keys are refetched when a token names a key id we do not have (rotation).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from inkpass.domain.errors import ProviderUnavailable

_LEEWAY_S = 60
_SCOPE = "openid email profile"


@dataclass(frozen=True)
class ProviderConfig:
    client_id: str
    client_secret: str
    discovery_url: str
    timeout_s: float


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str
    email_verified: bool
    name: str | None
    access_token: str | None
    refresh_token: str | None
    expires_at: float | None


class IdTokenInvalid(Exception):
    """The provider's answer does not verify: treated as a failed sign-in, never retried."""


class OpenIdProvider:
    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._discovery: dict[str, Any] | None = None
        self._jwks: KeySet | None = None

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=_SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.config.timeout_s,
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.config.timeout_s) as http:
                response = await http.get(url)
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"the identity provider did not answer: {exc}") from None
        if not isinstance(data, dict):
            raise ProviderUnavailable("the identity provider answered something unexpected")
        return data

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            document = await self._get_json(self.config.discovery_url)
            for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(key), str):
                    raise ProviderUnavailable(f"the discovery document has no {key}")
            self._discovery = document
        return self._discovery

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        endpoint = (await self.discovery())["authorization_endpoint"]
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, code_verifier=code_verifier, nonce=nonce
            )
        return str(url)

    async def redeem(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> Identity:
        doc = await self.discovery()
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(
                    doc["token_endpoint"],
                    code=code,
                    code_verifier=code_verifier,
                    grant_type="authorization_code",
                )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"the token endpoint did not answer: {exc}") from None
        except Exception as exc:  # authlib raises OAuthError (and others) for refusals
            raise IdTokenInvalid(f"the provider refused the code: {exc}") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise IdTokenInvalid("no ID token in the token response")
        claims = await self._verify_id_token(id_token, doc["issuer"], nonce)
        email = claims.get("email")
        if not isinstance(email, str) or not isinstance(claims.get("sub"), str):
            raise IdTokenInvalid("the ID token has no subject or email")
        expires_in = token.get("expires_in")
        return Identity(
            subject=claims["sub"],
            email=email.strip().lower(),
            email_verified=claims.get("email_verified") is True,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
            access_token=token.get("access_token"),
            refresh_token=token.get("refresh_token"),
            expires_at=time.time() + expires_in if isinstance(expires_in, int) else None,
        )

    async def _keys(self, *, refresh: bool) -> KeySet:
        if self._jwks is None or refresh:
            data = await self._get_json((await self.discovery())["jwks_uri"])
            try:
                self._jwks = KeySet.import_key_set(data)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderUnavailable("the provider's key set is unreadable") from None
        return self._jwks

    async def _verify_id_token(self, id_token: str, issuer: str, nonce: str) -> dict[str, Any]:
        keys = await self._keys(refresh=False)
        try:
            decoded = jwt.decode(id_token, keys, algorithms=["RS256"])
        except JoseError:
            # Perhaps the provider rotated its keys since we fetched them: try once more.
            keys = await self._keys(refresh=True)
            try:
                decoded = jwt.decode(id_token, keys, algorithms=["RS256"])
            except JoseError as exc:
                raise IdTokenInvalid(f"the ID token does not verify: {exc.error}") from None
        claims = decoded.claims
        now = time.time()
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        checks = {
            "issuer": claims.get("iss") == issuer,
            "audience": self.config.client_id in audiences,
            "authorized party": claims.get("azp", self.config.client_id) == self.config.client_id,
            "expiry": isinstance(claims.get("exp"), int) and claims["exp"] > now - _LEEWAY_S,
            "issue time": isinstance(claims.get("iat"), int) and claims["iat"] < now + _LEEWAY_S,
            "nonce": isinstance(claims.get("nonce"), str)
            and secrets.compare_digest(claims["nonce"], nonce),
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise IdTokenInvalid(f"the ID token fails its {', '.join(failed)} check")
        return claims
