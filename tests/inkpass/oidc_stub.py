"""A small OpenID provider over real HTTP, standing in for Google in tests.

It implements what the authorization-code flow needs and checks what a real provider checks:
client authentication, single-use codes bound to the redirect URI, and PKCE (S256). Its ID
tokens are RS256-signed with a key published at its JWKS endpoint. Knobs let a test make it
misbehave (another nonce, an unverified address, a token signed with a stranger's key).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Header, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "fluxos-test-client"
CLIENT_SECRET = "test-client-secret"


def _rsa_key(kid: str) -> RSAKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return RSAKey.import_key(pem, {"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class Person:
    subject: str
    email: str
    email_verified: bool = True
    name: str = "Test Person"


@dataclass
class Grant:
    person: Person
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    used: bool = False


@dataclass
class OidcStub:
    base_url: str = ""
    person: Person = field(default_factory=lambda: Person("google-sub-1", "g@example.com"))
    key: RSAKey = field(default_factory=lambda: _rsa_key("stub-1"))
    stranger_key: RSAKey = field(default_factory=lambda: _rsa_key("stub-1"))
    override_nonce: str | None = None
    sign_with_stranger: bool = False
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": self.base_url,
                "authorization_endpoint": f"{self.base_url}/authorize",
                "token_endpoint": f"{self.base_url}/token",
                "jwks_uri": f"{self.base_url}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                raise HTTPException(400, "bad client or response type")
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                raise HTTPException(400, "PKCE required")
            if not q.get("nonce") or not q.get("state"):
                raise HTTPException(400, "state and nonce required")
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(
                self.person,
                CLIENT_ID,
                q["redirect_uri"],
                q["nonce"],
                q["code_challenge"],
            )
            query = urlencode({"code": code, "state": q["state"]})
            return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

        @app.post("/token")
        async def token(
            grant_type: str = Form(...),
            code: str = Form(...),
            redirect_uri: str = Form(...),
            code_verifier: str = Form(...),
            authorization: str = Header(""),
        ) -> JSONResponse:
            self.token_requests += 1
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if authorization != f"Basic {expected}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.grants.get(code)
            if grant_type != "authorization_code" or grant is None or grant.used:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            grant.used = True
            digest = hashlib.sha256(code_verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge != grant.challenge or redirect_uri != grant.redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {
                "iss": self.base_url,
                "aud": CLIENT_ID,
                "azp": CLIENT_ID,
                "sub": grant.person.subject,
                "email": grant.person.email,
                "email_verified": grant.person.email_verified,
                "name": grant.person.name,
                "nonce": self.override_nonce or grant.nonce,
                "iat": now,
                "exp": now + 3600,
            }
            key = self.stranger_key if self.sign_with_stranger else self.key
            id_token = jwt.encode({"alg": "RS256", "kid": "stub-1"}, claims, key)
            return JSONResponse(
                {
                    "access_token": "provider-access-" + secrets.token_urlsafe(8),
                    "refresh_token": "provider-refresh-" + secrets.token_urlsafe(8),
                    "id_token": id_token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "scope": "openid email profile",
                }
            )

        return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serve_stub() -> AsyncIterator[OidcStub]:
    stub = OidcStub()
    port = _free_port()
    stub.base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(stub.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield stub
    finally:
        server.should_exit = True
        await task
