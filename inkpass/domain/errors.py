"""inkpass's errors: each carries one of the contract's stable codes."""

from __future__ import annotations

from typing import Any

from contracts.inkpass.errors import InkPassErrorCode
from shared.errors import CodedPermanentError, CodedTransientError

Code = InkPassErrorCode


class InkPassError(CodedPermanentError):
    def __init__(
        self, code: InkPassErrorCode, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code.value, message, details=details)


class TooManyAttempts(InkPassError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            Code.TOO_MANY_ATTEMPTS,
            "too many attempts; try again later",
            details={"retry_after_s": retry_after_s},
        )


class ProviderUnavailable(CodedTransientError):
    """The OAuth provider could not be reached or answered an error: worth retrying."""

    def __init__(self, message: str) -> None:
        super().__init__(Code.OAUTH_PROVIDER_ERROR.value, message)


def invalid_credentials() -> InkPassError:
    # One message for every cause, so the reply is no oracle.
    return InkPassError(Code.INVALID_CREDENTIALS, "email or password is wrong")


def invalid_code() -> InkPassError:
    return InkPassError(Code.INVALID_CODE, "the code is wrong, expired or already used")


def not_found(what: str) -> InkPassError:
    return InkPassError(Code.NOT_FOUND, f"no such {what}")


def forbidden(message: str = "not allowed") -> InkPassError:
    return InkPassError(Code.FORBIDDEN, message)
