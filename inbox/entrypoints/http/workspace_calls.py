"""Calls to tentacle's workspace and memory on the caller's behalf, with their refusals as
HTTP statuses that say whose fault they are (a conflict, a bad filter, a stale cursor)."""

from __future__ import annotations

from typing import Any, Final

from contracts.model import ContractModel
from contracts.subject import Subject
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as W
from inbox.domain.errors import CodedError, InvalidCursor
from inbox.entrypoints.http.task_routes import as_caller
from inbox.service.auth import Principal
from inbox.service.context import Inbox

_STATUS: Final[dict[str, int]] = {
    W.OBJECT_EXISTS: 409,
    W.OBJECT_VERSION_CONFLICT: 409,
    W.MEMORY_VERSION_CONFLICT: 409,
    W.FILTER_INVALID: 400,
    W.REGEX_REJECTED: 400,
    W.OBJECT_INVALID: 422,
    W.OBJECT_SCHEMA_INVALID: 422,
    W.MEMORY_INVALID: 422,
    W.QUERY_TIMEOUT: 422,
    "tentacle.object_schema_conflict": 409,  # existing objects break the new schema
}


async def ask_workspace(
    inbox: Inbox, principal: Principal, subject: Subject[Any, Any], payload: ContractModel
) -> Any:
    try:
        return await as_caller(inbox, principal, subject, payload)
    except CodedError as exc:
        if exc.code == W.CURSOR_INVALID:
            # One code for every list's bad cursor, whichever service made the cursor.
            raise InvalidCursor("the cursor is not one this list gave out") from None
        status = _STATUS.get(exc.code)
        if status is not None:
            exc.http_status = status
        raise
