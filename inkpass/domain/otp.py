"""One-time passwords: six digits, ten minutes, five tries, one purpose, one use.

The stored value is an HMAC of the code bound to the person and the purpose, so a database
reader learns nothing usable, and a code issued for one purpose cannot match a check for another
even if the digits collide. Issuing a new code for a purpose replaces the previous one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from contracts.inkpass.types import OtpPurpose

DIGITS: Final = 6
TTL: Final = timedelta(minutes=10)
MAX_ATTEMPTS: Final = 5


def new_code() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def code_hash(key: bytes, user_id: str, purpose: OtpPurpose, code: str) -> bytes:
    message = b"\x00".join((b"otp-v1", user_id.encode(), purpose.value.encode(), code.encode()))
    return hmac.new(key, message, hashlib.sha256).digest()


@dataclass(frozen=True)
class StoredOtp:
    code_hash: bytes
    attempts: int
    expires_at: datetime
    consumed_at: datetime | None


def usable(otp: StoredOtp | None, now: datetime) -> bool:
    return (
        otp is not None
        and otp.consumed_at is None
        and otp.expires_at > now
        and otp.attempts < MAX_ATTEMPTS
    )


def matches(otp: StoredOtp, candidate: bytes) -> bool:
    return hmac.compare_digest(otp.code_hash, candidate)
