"""mimic's errors: each carries a stable code from the contract."""

from __future__ import annotations

from typing import Any

from contracts.mimic.errors import MimicErrorCode
from shared.errors import CodedPermanentError, CodedTransientError


class MimicError(CodedPermanentError):
    """A request or message that can never succeed as it is."""

    def __init__(
        self, code: MimicErrorCode, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code.value, message, details=details)


class RetryLater(CodedTransientError):
    """Not now: the consumer redelivers after its backoff, or after `retry_after` if longer."""

    def __init__(
        self, code: MimicErrorCode, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(code.value, message)
        self.retry_after = retry_after


class WebhookRejected(MimicError):
    """An inbound webhook refused; `status` is the HTTP status the integrator gets."""

    def __init__(self, code: MimicErrorCode, message: str, *, status: int) -> None:
        super().__init__(code, message)
        self.status = status
