"""How each provider signs its webhooks, written from their documentation (not from mimic), so
the ingress is checked against the real schemes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _hex(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def stripe(secret: str, body: bytes, *, at: int | None = None) -> dict[str, str]:
    t = at if at is not None else int(time.time())
    signature = _hex(secret.encode(), f"{t}.".encode() + body)
    return {"Stripe-Signature": f"t={t},v1={signature},v0=deadbeef"}


def github(secret: str, body: bytes, *, event: str, delivery: str) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": "sha256=" + _hex(secret.encode(), body),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
    }


def slack(secret: str, body: bytes, *, at: int | None = None) -> dict[str, str]:
    t = str(at if at is not None else int(time.time()))
    return {
        "X-Slack-Request-Timestamp": t,
        "X-Slack-Signature": "v0=" + _hex(secret.encode(), f"v0:{t}:".encode() + body),
    }


def discord(key: Ed25519PrivateKey, body: bytes, *, at: int | None = None) -> dict[str, str]:
    t = str(at if at is not None else int(time.time()))
    return {
        "X-Signature-Ed25519": key.sign(t.encode() + body).hex(),
        "X-Signature-Timestamp": t,
    }


def custom(
    secret: str, body: bytes, *, event: str, delivery: str, at: int | None = None
) -> dict[str, str]:
    t = at if at is not None else int(time.time())
    return {
        "X-Fluxos-Timestamp": str(t),
        "X-Fluxos-Signature": "v1=" + _hex(secret.encode(), f"{t}.".encode() + body),
        "X-Fluxos-Event": event,
        "X-Fluxos-Delivery": delivery,
    }


def svix(secret: str, body: bytes, *, msg_id: str, at: int | None = None) -> dict[str, str]:
    t = str(at if at is not None else int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{t}.".encode() + body, hashlib.sha256).digest()
    return {
        "svix-id": msg_id,
        "svix-timestamp": t,
        "svix-signature": "v1," + base64.b64encode(digest).decode(),
    }
