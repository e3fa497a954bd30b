"""Read the organisation's object types and the schema of one."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.objects import (
    GetObjectSchemaV1,
    ListObjectTypesV1,
    ObjectSchemaV1,
    ObjectTypeInfoV1,
    ObjectTypesV1,
)
from tentacle.adapters import object_store, object_types
from tentacle.service.deps import Deps, require_org


async def get_object_schema(deps: Deps, request: GetObjectSchemaV1, meta: Meta) -> ObjectSchemaV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        schema = await object_store.schema_of(tx.conn, org_id, request.type)
    return ObjectSchemaV1(type=request.type, json_schema=schema)


async def list_object_types(deps: Deps, request: ListObjectTypesV1, meta: Meta) -> ObjectTypesV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        rows = await object_types.list_types(tx.conn, org_id)
    return ObjectTypesV1(
        types=[
            ObjectTypeInfoV1(type=r["type"], json_schema=r["json_schema"], count=r["count"])
            for r in rows
        ]
    )
