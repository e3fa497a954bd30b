"""Other services' error replies as inbox errors: their stable code, an HTTP status that fits."""

from __future__ import annotations

from typing import Final

from inbox.domain.errors import CodedError
from shared.bus import BusTimeout, BusUnavailable, RemoteError
from shared.errors import FluxosError

_BY_SUFFIX: Final = {
    "invalid_credentials": 401,
    "token_invalid": 401,
    "token_expired": 401,
    "token_wrong_type": 401,
    "token_revoked": 401,
    "refresh_reused": 401,
    "api_key_invalid": 401,
    "email_unverified": 403,
    "account_disabled": 403,
    "forbidden": 403,
    "not_a_member": 403,
    "scope_exceeds_role": 403,
    "not_found": 404,
    "task_not_found": 404,
    "checkpoint_not_found": 404,
    "preference_not_found": 404,
    "conflict": 409,
    "request_conflict": 409,
    "invalid_transition": 409,
    "checkpoint_not_pending": 409,
    "supersede_rejected": 409,
    "last_owner": 409,
    "totp_already_enabled": 409,
    "too_many_attempts": 429,
}


def status_of(code: str, default: int) -> int:
    suffix = code.rpartition(".")[2]
    if suffix.endswith("not_found"):
        return 404  # another org's ids look exactly like missing ones
    return _BY_SUFFIX.get(suffix, default)


def as_http_error(exc: FluxosError) -> CodedError:
    if isinstance(exc, RemoteError):
        status = 503 if exc.retryable else status_of(exc.code, 422)
        return CodedError(exc.code, exc.error.message, status, details=exc.error.details)
    if isinstance(exc, BusTimeout | BusUnavailable):
        return CodedError(exc.code, "a service the inbox relies on did not answer in time", 503)
    status = 503 if exc.retryable else status_of(exc.code, 400)
    return CodedError(exc.code, exc.message, status)
