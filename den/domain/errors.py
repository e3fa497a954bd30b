"""Den's errors: a stable code and the HTTP status it maps to (both from the contract)."""

from __future__ import annotations

from typing import Any

from contracts.den.errors import DenErrorCode as Code
from contracts.den.http import HTTP_STATUS, http_status
from shared.errors import CodedPermanentError, CodedTransientError


class DenError(CodedPermanentError):
    """A request den refuses; retrying the same request cannot help."""

    def __init__(self, code: Code, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(code.value, message, details=details)
        self.http_status = HTTP_STATUS[code]


class StorageUnavailable(CodedTransientError):
    http_status = 503

    def __init__(self, message: str) -> None:
        super().__init__(Code.STORAGE_UNAVAILABLE.value, message)


def http_status_of(code: str) -> int:
    return http_status(code)
