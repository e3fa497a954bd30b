"""TOTP (RFC 6238, pyotp): 30-second steps, 6 digits, SHA-1 as every authenticator app expects.

A code is accepted for the current step or one step either side (clock drift), and only for a
step later than the last one used, so a code, once accepted, is never accepted again.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

SECRET_CHARS = 32  # base32: 160 bits, the RFC 4226 recommendation


def new_secret() -> str:
    return str(pyotp.random_base32(length=SECRET_CHARS))


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer))


def qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    data: bytes = image.to_string()
    return data.decode()


def current_step(secret: str, now: datetime) -> int:
    return int(pyotp.TOTP(secret).timecode(now))


def matching_step(secret: str, code: str, now: datetime, *, window: int = 1) -> int | None:
    """The time step `code` belongs to, within `window` steps of now, or None."""
    totp = pyotp.TOTP(secret)
    step = int(totp.timecode(now))
    found = None
    # Every candidate is compared (no early exit), so timing does not tell which step matched.
    for candidate in range(step - window, step + window + 1):
        if hmac.compare_digest(str(totp.generate_otp(candidate)), code):
            found = candidate
    return found


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).generate_otp(step))
