"""Delete an object (optionally only at an expected version)."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.objects import DeleteObjectV1, ObjectChange, ObjectDeletedV1
from contracts.tentacle.workspace_errors import WorkspaceErrorCode
from tentacle.adapters import object_store
from tentacle.domain.workspace_errors import WorkspaceError, object_not_found
from tentacle.service.deps import Deps, require_org
from tentacle.service.objects_common import announce


async def delete_object(deps: Deps, request: DeleteObjectV1, meta: Meta) -> ObjectDeletedV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        if request.expected_version is not None:
            row = await object_store.get(tx.conn, org_id, request.id, for_update=True)
            if row is None:
                raise object_not_found(request.id)
            if row["version"] != request.expected_version:
                raise WorkspaceError(
                    WorkspaceErrorCode.OBJECT_VERSION_CONFLICT,
                    f"object {request.id} is at version {row['version']}",
                    details={"version": row["version"]},
                )
        deleted = await object_store.delete(tx.conn, org_id, request.id)
        if deleted is None:
            raise object_not_found(request.id)
        obj = announce(tx, deleted, ObjectChange.DELETED, meta.actor)
    return ObjectDeletedV1(id=obj.id, version=obj.version)
