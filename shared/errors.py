"""Errors with stable codes.

Each service defines its own error types by subclassing `PermanentError` or `TransientError` and
setting `code`. The bus layer maps them to ack decisions and error replies:

* permanent (bad input, rule violated): a request gets `{code, message}`; a JetStream message is
  terminated and dead-lettered with the code, never retried;
* transient (a dependency is down, a lock is held): a request gets the code with
  `retryable=true`; a JetStream message is retried after the consumer's backoff, by JetStream
  alone (one retry owner), and dead-lettered when attempts run out.

Anything else is a bug: it is logged with its traceback and answered as `bus.internal`, retried
like a transient error (a redeploy may fix it) and dead-lettered in the end.
"""

from __future__ import annotations

from typing import Any

from contracts.envelope import ErrorV1


class FluxosError(Exception):
    # Class defaults that subclasses override; an instance may carry a code chosen at raise time.
    code: str = "fluxos.error"
    retryable: bool = False

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_error(self) -> ErrorV1:
        return ErrorV1(
            code=self.code, message=self.message, retryable=self.retryable, details=self.details
        )


class PermanentError(FluxosError):
    """Retrying cannot help: the input or the state forbids it."""

    code = "fluxos.permanent"
    retryable = False


class TransientError(FluxosError):
    """Retrying later may succeed.

    `retry_after` (seconds) is what the failing side asked for (an HTTP 429's Retry-After); the
    consumer waits at least that long before the redelivery instead of its own shorter backoff.
    """

    code = "fluxos.transient"
    retryable = True
    retry_after: float | None = None


class CodedPermanentError(PermanentError):
    """A permanent error whose code is chosen at the raise site (e.g. from a contract enum)."""

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self.code = code


class CodedTransientError(TransientError):
    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self.code = code
