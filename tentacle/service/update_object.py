"""Change an object's data (merge patch by default, or replace) and tags, optimistically."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.objects import ObjectChange, ObjectV1, UpdateMode, UpdateObjectV1
from contracts.tentacle.workspace_errors import WorkspaceErrorCode
from tentacle.adapters import object_store, object_type_locks
from tentacle.domain.object_docs import dates_shadow, merge_patch
from tentacle.domain.workspace_errors import WorkspaceError, object_not_found
from tentacle.service.deps import Deps, require_org
from tentacle.service.objects_common import announce, checked_document


async def update_object(deps: Deps, request: UpdateObjectV1, meta: Meta) -> ObjectV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        row = await object_store.get(tx.conn, org_id, request.id, for_update=True)
        if row is None:
            raise object_not_found(request.id)
        if request.expected_version is not None and row["version"] != request.expected_version:
            raise WorkspaceError(
                WorkspaceErrorCode.OBJECT_VERSION_CONFLICT,
                f"object {request.id} is at version {row['version']}, "
                f"not {request.expected_version}",
                details={"version": row["version"]},
            )
        data = dict(row["data"])
        if request.data is not None:
            data = (
                dict(request.data)
                if request.mode is UpdateMode.REPLACE
                else merge_patch(data, dict(request.data))
            )
        await object_type_locks.share(tx.conn, org_id, [row["type"]])
        schema = await object_store.schema_of(tx.conn, org_id, row["type"])
        checked_document(data, schema, row["type"])
        tags = sorted(set(request.tags)) if request.tags is not None else list(row["tags"])
        updated = await object_store.update(
            tx.conn, org_id, request.id, data, dates_shadow(data), tags, meta.actor
        )
        return announce(tx, updated, ObjectChange.UPDATED, meta.actor)
