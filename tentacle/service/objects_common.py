"""What the object use cases share: checking a document against its limits and its type's
schema, and turning rows into contract objects with their change events."""

from __future__ import annotations

from typing import Any

from contracts.envelope import Actor
from contracts.tentacle.objects import ObjectChange, ObjectV1
from contracts.tentacle.workspace_errors import WorkspaceErrorCode
from tentacle.adapters import object_store
from tentacle.adapters.object_events import change_message
from tentacle.adapters.pg import Tx
from tentacle.domain.object_docs import DocumentInvalid, check_document
from tentacle.domain.object_schemas import violations
from tentacle.domain.workspace_errors import WorkspaceError


def checked_document(
    data: dict[str, Any], schema: dict[str, Any] | None, object_type: str
) -> dict[str, Any]:
    try:
        check_document(data)
    except DocumentInvalid as exc:
        raise WorkspaceError(WorkspaceErrorCode.OBJECT_INVALID, str(exc)) from None
    if schema is not None:
        problems = violations(schema, data)
        if problems:
            raise WorkspaceError(
                WorkspaceErrorCode.OBJECT_INVALID,
                f"the document does not match the schema of type {object_type}",
                details={"violations": problems},
            )
    return data


def announce(tx: Tx, row: Any, change: ObjectChange, actor: Actor) -> ObjectV1:
    """The row as a contract object; its change event is published if the write commits."""
    obj = object_store.to_object(row)
    tx.publish(change_message(obj, change, actor))
    return obj
