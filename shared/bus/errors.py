"""Errors a bus caller can see."""

from __future__ import annotations

from typing import Any

from contracts.envelope import ErrorV1
from contracts.platform.errors import BusErrorCode
from shared.errors import FluxosError, TransientError


class RemoteError(FluxosError):
    """The service that answered a request reported an error; code and retryability are its."""

    def __init__(self, error: ErrorV1) -> None:
        super().__init__(error.message, details=error.details)
        # The remote side chose the code and whether retrying can help.
        self.code = error.code
        self.retryable = error.retryable
        self.error = error


class BusTimeout(TransientError):
    code = BusErrorCode.TIMEOUT.value


class BusUnavailable(TransientError):
    code = BusErrorCode.UNAVAILABLE.value


def is_retryable(exc: BaseException) -> bool:
    """Whether the one retry owner (JetStream redelivery) should try again.

    Unknown exceptions are bugs; a redeploy may fix them, so they are retried until the
    consumer's attempts run out and then dead-lettered rather than dropped.
    """
    if isinstance(exc, FluxosError):
        return exc.retryable
    return True


def error_of(exc: BaseException) -> ErrorV1:
    if isinstance(exc, FluxosError):
        return exc.to_error()
    return ErrorV1(
        code=BusErrorCode.INTERNAL.value,
        message="internal error; see the service log for this call id",
        retryable=True,
    )


def details(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
