"""Tentacle's errors, each with a stable code from `contracts.tentacle.errors`."""

from __future__ import annotations

from typing import Any

from contracts.tentacle.errors import TentacleErrorCode
from shared.errors import PermanentError, TransientError


class TentacleError(PermanentError):
    """A request or a rule forbids this; retrying the same thing cannot help."""

    def __init__(
        self, code: TentacleErrorCode, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.code = code.value


class TentacleUnavailable(TransientError):
    """A dependency is down or busy; the one retry owner tries again later."""

    def __init__(
        self,
        code: TentacleErrorCode,
        message: str,
        *,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.code = code.value
        self.retry_after = retry_after


def not_found(task_id: str) -> TentacleError:
    # The same answer whether the task does not exist or belongs to another organisation.
    return TentacleError(TentacleErrorCode.TASK_NOT_FOUND, f"no task {task_id}")
