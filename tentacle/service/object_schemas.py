"""Set or remove the JSON Schema that objects of a type must match."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.objects import ObjectSchemaV1, PutObjectSchemaV1
from contracts.tentacle.workspace_errors import WorkspaceErrorCode
from tentacle.adapters import object_store
from tentacle.domain.object_schemas import SchemaInvalid, check_schema
from tentacle.domain.workspace_errors import WorkspaceError
from tentacle.service.deps import Deps, require_org


async def put_object_schema(deps: Deps, request: PutObjectSchemaV1, meta: Meta) -> ObjectSchemaV1:
    org_id = require_org(meta)
    if request.json_schema is not None:
        try:
            check_schema(request.json_schema)
        except SchemaInvalid as exc:
            raise WorkspaceError(WorkspaceErrorCode.OBJECT_SCHEMA_INVALID, str(exc)) from None
    async with deps.db.transaction(org_id=org_id) as tx:
        await object_store.put_schema(tx.conn, org_id, request.type, request.json_schema)
    return ObjectSchemaV1(type=request.type, json_schema=request.json_schema)
