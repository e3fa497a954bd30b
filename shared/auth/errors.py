"""Errors of token verification, with inkpass's stable codes (callers branch on the code)."""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from shared.errors import CodedPermanentError, CodedTransientError, PermanentError


class AuthMisconfigured(PermanentError):
    code = "auth.misconfigured"


class TokenRejected(CodedPermanentError):
    """The token cannot be accepted; `code` says why (invalid, expired, wrong type, revoked)."""

    def __init__(self, code: InkPassErrorCode, message: str) -> None:
        super().__init__(code.value, message)


class RevocationsUnavailable(CodedTransientError):
    """This process cannot currently hear revocations, so it accepts no token (fail closed)."""

    def __init__(self, message: str) -> None:
        super().__init__(InkPassErrorCode.REVOCATIONS_UNAVAILABLE.value, message)
