"""Den's errors: a stable code (from the contract) and the HTTP status it maps to."""

from __future__ import annotations

from typing import Any

from contracts.den.errors import DenErrorCode as Code
from shared.errors import CodedPermanentError, CodedTransientError

_STATUS: dict[Code, int] = {
    Code.ORG_REQUIRED: 400,
    Code.FORBIDDEN: 403,
    Code.INVALID_NAME: 400,
    Code.INVALID_TAG: 400,
    Code.NAME_TAKEN: 409,
    Code.FOLDER_NOT_FOUND: 404,
    Code.FOLDER_NOT_EMPTY: 409,
    Code.FOLDER_CYCLE: 409,
    Code.FILE_NOT_FOUND: 404,
    Code.FILE_DELETED: 404,
    Code.FILE_NOT_DELETED: 409,
    Code.INVALID_CURSOR: 400,
    Code.LINK_NOT_FOUND: 404,
    Code.INVALID_LIFETIME: 400,
    Code.INVALID_SIGNATURE: 403,
    Code.URL_EXPIRED: 403,
    Code.LINK_REVOKED: 403,
    Code.UPLOAD_NOT_FOUND: 404,
    Code.UPLOAD_CLOSED: 410,
    Code.UPLOAD_BUSY: 423,
    Code.OFFSET_MISMATCH: 409,
    Code.CHECKSUM_MISMATCH: 460,  # tus checksum extension
    Code.UNSUPPORTED_CHECKSUM: 400,
    Code.TOO_LARGE: 413,
    Code.LENGTH_MISMATCH: 400,
    Code.QUOTA_EXCEEDED: 413,
    Code.BAD_REQUEST: 400,
    Code.UNSUPPORTED_VERSION: 412,
    Code.UNSUPPORTED_MEDIA_TYPE: 415,
    Code.RANGE_NOT_SATISFIABLE: 416,
    Code.PRECONDITION_FAILED: 412,
    Code.STORAGE_UNAVAILABLE: 503,
    Code.INTEGRITY: 500,
    Code.INTERNAL: 500,
}


class DenError(CodedPermanentError):
    """A request den refuses; retrying the same request cannot help."""

    def __init__(self, code: Code, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(code.value, message, details=details)
        self.http_status = _STATUS[code]


class StorageUnavailable(CodedTransientError):
    http_status = 503

    def __init__(self, message: str) -> None:
        super().__init__(Code.STORAGE_UNAVAILABLE.value, message)


def http_status_of(code: str) -> int:
    try:
        return _STATUS[Code(code)]
    except ValueError:
        return 500
