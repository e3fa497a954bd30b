"""Rules a new password must meet, beyond the contract's length bounds (10 to 256 chars).

In line with NIST SP 800-63B: length over composition rules, and no password that is obviously
guessable for this account.
"""

from __future__ import annotations

from typing import Final

from contracts.inkpass.errors import InkPassErrorCode
from inkpass.domain.errors import InkPassError

_COMMON: Final = frozenset(
    {
        "password123", "password1234", "passw0rd123", "1234567890", "12345678910",
        "qwertyuiop", "qwerty12345", "iloveyou123", "letmein1234", "welcome123",
        "administrator", "abcdefghij", "0987654321", "1q2w3e4r5t", "changeme123",
    }
)  # fmt: skip


def check_new_password(password: str, *, email: str) -> None:
    lowered = password.lower()
    local = email.split("@", 1)[0].lower()
    if lowered in _COMMON:
        raise InkPassError(InkPassErrorCode.WEAK_PASSWORD, "this password is too common")
    if len(set(password)) < 4:
        raise InkPassError(InkPassErrorCode.WEAK_PASSWORD, "too few distinct characters")
    if len(local) >= 4 and local in lowered:
        raise InkPassError(InkPassErrorCode.WEAK_PASSWORD, "the password contains the email")
