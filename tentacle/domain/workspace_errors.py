"""Errors of workspace objects and memory, each with a stable code from
`contracts.tentacle.workspace_errors`."""

from __future__ import annotations

from typing import Any

from contracts.tentacle.workspace_errors import WorkspaceErrorCode
from shared.errors import PermanentError


class WorkspaceError(PermanentError):
    def __init__(
        self, code: WorkspaceErrorCode, message: str, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.code = code.value


def object_not_found(object_id: str) -> WorkspaceError:
    # The same answer whether the object does not exist or belongs to another organisation.
    return WorkspaceError(WorkspaceErrorCode.OBJECT_NOT_FOUND, f"no object {object_id}")
