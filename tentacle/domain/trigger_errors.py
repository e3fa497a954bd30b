"""The error of triggers and schedules, carrying a stable code of `TriggerErrorCode`."""

from __future__ import annotations

from typing import Any

from contracts.tentacle.trigger_errors import TriggerErrorCode
from shared.errors import CodedPermanentError


class TriggerError(CodedPermanentError):
    """A request or a rule forbids this; retrying the same thing cannot help."""

    def __init__(
        self, code: TriggerErrorCode, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code.value, message, details=details)
