"""Create one object, or insert many atomically (all or none)."""

from __future__ import annotations

from collections.abc import Sequence

from contracts.envelope import Meta
from contracts.ids import new_id
from contracts.tentacle.objects import (
    BulkInsertedV1,
    BulkInsertObjectsV1,
    CreateObjectV1,
    NewObjectV1,
    ObjectChange,
    ObjectV1,
)
from contracts.tentacle.workspace_errors import WorkspaceErrorCode
from tentacle.adapters import object_store, object_type_locks
from tentacle.adapters.object_store import NewRow
from tentacle.domain.object_docs import dates_shadow
from tentacle.domain.workspace_errors import WorkspaceError
from tentacle.service.deps import Deps, require_org
from tentacle.service.objects_common import announce, checked_document


async def create_object(deps: Deps, request: CreateObjectV1, meta: Meta) -> ObjectV1:
    created = await _insert(deps, [request], meta)
    return created[0]


async def bulk_insert(deps: Deps, request: BulkInsertObjectsV1, meta: Meta) -> BulkInsertedV1:
    created = await _insert(deps, request.objects, meta)
    return BulkInsertedV1(ids=[o.id for o in created])


async def _insert(deps: Deps, objects: Sequence[NewObjectV1], meta: Meta) -> list[ObjectV1]:
    org_id = require_org(meta)
    ids = [o.id or new_id() for o in objects]
    if len(set(ids)) != len(ids):
        raise WorkspaceError(WorkspaceErrorCode.OBJECT_EXISTS, "the same id is given twice")
    async with deps.db.transaction(org_id=org_id) as tx:
        types = sorted({o.type for o in objects})
        await object_type_locks.share(tx.conn, org_id, types)
        schemas = await object_store.schemas_of(tx.conn, org_id, types)
        rows = []
        for object_id, new in zip(ids, objects, strict=True):
            data = checked_document(dict(new.data), schemas.get(new.type), new.type)
            tags = sorted(set(new.tags))
            rows.append(NewRow(object_id, new.type, data, dates_shadow(data), tags))
        inserted = await object_store.insert(tx.conn, org_id, meta.actor, rows)
        if len(inserted) != len(rows):
            taken = sorted(set(ids) - {r["id"] for r in inserted})
            # Rolled back: nothing of the request is kept.
            raise WorkspaceError(
                WorkspaceErrorCode.OBJECT_EXISTS,
                f"an object with id {taken[0]} exists already",
                details={"ids": taken[:20]},
            )
        by_id = {r["id"]: r for r in inserted}
        return [announce(tx, by_id[i], ObjectChange.CREATED, meta.actor) for i in ids]
