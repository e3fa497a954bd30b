"""Verifying that an inbound webhook comes from whom it claims, provider by provider.

Pure functions of (headers, raw body, secret, now): they raise `WebhookRejected` with a stable
code and the HTTP status to answer, or return. The raw bytes are verified, never a re-serialised
parse, and every comparison of secrets is constant-time. Where a provider signs a timestamp,
a valid signature on an old timestamp is refused as stale, which bounds replay to the tolerance
window; within it, replays are caught by delivery id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts.mimic.errors import MimicErrorCode
from mimic.domain.errors import WebhookRejected

Headers = Mapping[str, str]
"""Header names in lower case."""


def _unsigned(what: str) -> WebhookRejected:
    return WebhookRejected(MimicErrorCode.WEBHOOK_UNSIGNED, f"no {what} header", status=401)


def _mismatch() -> WebhookRejected:
    return WebhookRejected(
        MimicErrorCode.WEBHOOK_BAD_SIGNATURE, "the signature does not match", status=401
    )


def _timestamp(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise WebhookRejected(
            MimicErrorCode.WEBHOOK_BAD_SIGNATURE, "the signed timestamp is not a number", status=401
        ) from None


def _check_fresh(timestamp: int, now: float, tolerance: int) -> None:
    if abs(now - timestamp) > tolerance:
        raise WebhookRejected(
            MimicErrorCode.WEBHOOK_STALE,
            f"the signed timestamp is more than {tolerance}s away from now",
            status=400,
        )


def _hmac_hex(secret: str | bytes, message: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_stripe(
    headers: Headers, body: bytes, secret: str, *, now: float, tolerance: int
) -> None:
    """`Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]` over `<t>.<body>` (HMAC-SHA256)."""
    header = headers.get("stripe-signature")
    if not header:
        raise _unsigned("Stripe-Signature")
    timestamp: str | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise _mismatch()
    expected = _hmac_hex(secret, timestamp.encode() + b"." + body)
    # Stripe sends one v1 per active secret while one is being rolled.
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise _mismatch()
    _check_fresh(_timestamp(timestamp), now, tolerance)


def verify_github(headers: Headers, body: bytes, secret: str) -> None:
    """`X-Hub-Signature-256: sha256=<hex>` over the body. GitHub signs no timestamp: replay
    protection rests on the delivery id alone (`X-GitHub-Delivery`)."""
    header = headers.get("x-hub-signature-256")
    if not header:
        raise _unsigned("X-Hub-Signature-256")
    scheme, _, signature = header.partition("=")
    if scheme != "sha256" or not hmac.compare_digest(_hmac_hex(secret, body), signature):
        raise _mismatch()


def verify_slack(headers: Headers, body: bytes, secret: str, *, now: float, tolerance: int) -> None:
    """`X-Slack-Signature: v0=<hex>` over `v0:<X-Slack-Request-Timestamp>:<body>`."""
    signature = headers.get("x-slack-signature")
    timestamp = headers.get("x-slack-request-timestamp")
    if not signature or not timestamp:
        raise _unsigned("X-Slack-Signature / X-Slack-Request-Timestamp")
    expected = "v0=" + _hmac_hex(secret, b"v0:" + timestamp.encode() + b":" + body)
    if not hmac.compare_digest(expected, signature):
        raise _mismatch()
    _check_fresh(_timestamp(timestamp), now, tolerance)


def verify_discord(
    headers: Headers, body: bytes, public_key_hex: str, *, now: float, tolerance: int
) -> None:
    """Ed25519 over `<X-Signature-Timestamp><body>` with the application's public key."""
    signature = headers.get("x-signature-ed25519")
    timestamp = headers.get("x-signature-timestamp")
    if not signature or not timestamp:
        raise _unsigned("X-Signature-Ed25519 / X-Signature-Timestamp")
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature), timestamp.encode() + body)
    except (ValueError, InvalidSignature):
        raise _mismatch() from None
    _check_fresh(_timestamp(timestamp), now, tolerance)


CUSTOM_SIGNATURE = "x-fluxos-signature"
CUSTOM_TIMESTAMP = "x-fluxos-timestamp"


def sign_custom(secret: str, timestamp: int, body: bytes) -> str:
    """The signature a custom integrator computes (and that mimic sends on outbound posts)."""
    return "v1=" + _hmac_hex(secret, str(timestamp).encode() + b"." + body)


def verify_custom(
    headers: Headers, body: bytes, secret: str, *, now: float, tolerance: int
) -> None:
    """`X-Fluxos-Signature: v1=<hex>` over `<X-Fluxos-Timestamp>.<body>` (HMAC-SHA256)."""
    signature = headers.get(CUSTOM_SIGNATURE)
    timestamp = headers.get(CUSTOM_TIMESTAMP)
    if not signature or not timestamp:
        raise _unsigned("X-Fluxos-Signature / X-Fluxos-Timestamp")
    ts = _timestamp(timestamp)
    if not hmac.compare_digest(sign_custom(secret, ts, body), signature):
        raise _mismatch()
    _check_fresh(ts, now, tolerance)


def verify_svix(headers: Headers, body: bytes, secret: str, *, now: float, tolerance: int) -> None:
    """Svix (Resend's status webhooks): `svix-signature: v1,<base64> ...` over
    `<svix-id>.<svix-timestamp>.<body>`, keyed by the base64 part of `whsec_<base64>`."""
    msg_id = headers.get("svix-id")
    timestamp = headers.get("svix-timestamp")
    signatures = headers.get("svix-signature")
    if not msg_id or not timestamp or not signatures:
        raise _unsigned("svix-id / svix-timestamp / svix-signature")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise _mismatch() from None
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    offered = [s.partition(",")[2] for s in signatures.split() if s.startswith("v1,")]
    if not any(hmac.compare_digest(expected, s) for s in offered):
        raise _mismatch()
    _check_fresh(_timestamp(timestamp), now, tolerance)


def check_basic_auth(headers: Headers, username: str, password: str) -> None:
    """Postmark's status webhooks authenticate with HTTP basic credentials in the URL."""
    header = headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise _unsigned("Authorization")
    try:
        given = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _mismatch() from None
    expected = f"{username}:{password}".encode()
    if not hmac.compare_digest(given, expected):
        raise _mismatch()
