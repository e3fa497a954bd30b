"""Set or remove the JSON Schema that objects of a type must match.

A new schema applies to the objects that exist, not only to later writes: every object of the
type is checked against it first, and if any does not match, the schema is refused
(`tentacle.object_schema_conflict`, with how many objects fail and the first few with their
reasons) and nothing changes. Fixing those objects (or deleting them) and setting the schema
again is the migration path; a schema is never left in force over objects that break it.
Writers of the type wait while the check runs (see `object_type_locks`), so none slips by.

Fields the schema marks `"x-index": true` get expression indexes; they are built (or dropped)
after the schema is saved and before the reply, so a query right after the reply can use them.
Should a build fail (or the service stop midway), the schema is in force already and the reply
is the error; putting the same schema again finishes the indexes (every step is idempotent).
Queries stay correct without them, only slower.
"""

from __future__ import annotations

from typing import Any, Final

from contracts.envelope import Meta
from contracts.tentacle.objects import ObjectSchemaV1, PutObjectSchemaV1
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from tentacle.adapters import object_indexes, object_store, object_type_locks
from tentacle.adapters.pg import Conn
from tentacle.domain.object_indexes import MAX_PER_ORG, IndexSpecInvalid, indexed_paths
from tentacle.domain.object_schemas import SchemaInvalid, check_schema, violations
from tentacle.domain.workspace_errors import WorkspaceError
from tentacle.service.deps import Deps, require_org

REPORTED: Final = 5
"""How many failing objects a refusal names."""


async def put_object_schema(deps: Deps, request: PutObjectSchemaV1, meta: Meta) -> ObjectSchemaV1:
    org_id = require_org(meta)
    schema = request.json_schema
    indexed = _checked(schema)
    async with deps.db.transaction(org_id=org_id) as tx:
        await object_type_locks.own(tx.conn, org_id, request.type)
        if indexed:
            others = await object_store.schemas_in_org(tx.conn, org_id)
            total = len(indexed) + sum(
                len(indexed_paths(s)) for t, s in others.items() if t != request.type
            )
            if total > MAX_PER_ORG:
                raise WorkspaceError(
                    E.OBJECT_SCHEMA_INVALID,
                    f"an organisation may index at most {MAX_PER_ORG} fields across its types"
                    f" (this schema would make it {total})",
                )
        current = await object_store.schema_of(tx.conn, org_id, request.type)
        # The schema in force holds for every object already (writes and this check keep it
        # so): setting it again, as after a failed index build, needs no second look.
        if schema is not None and schema != current:
            await _refuse_if_objects_break(tx.conn, org_id, request.type, schema)
        await object_store.put_schema(tx.conn, org_id, request.type, schema)
    await object_indexes.reconcile(deps.db, org_id, request.type)
    return ObjectSchemaV1(type=request.type, json_schema=schema)


def _checked(schema: dict[str, Any] | None) -> list[list[str]]:
    if schema is None:
        return []
    try:
        check_schema(schema)
        return indexed_paths(schema)
    except (SchemaInvalid, IndexSpecInvalid) as exc:
        raise WorkspaceError(E.OBJECT_SCHEMA_INVALID, str(exc)) from None


async def _refuse_if_objects_break(
    conn: Conn, org_id: str, object_type: str, schema: dict[str, Any]
) -> None:
    failing: list[dict[str, Any]] = []
    count = 0
    async for object_id, data in object_store.documents_of_type(conn, org_id, object_type):
        problems = violations(schema, data)
        if problems:
            count += 1
            if len(failing) < REPORTED:
                failing.append({"id": object_id, "violations": problems})
    if count:
        ids = ", ".join(f["id"] for f in failing)
        raise WorkspaceError(
            E.OBJECT_SCHEMA_CONFLICT,
            f"{count} existing object(s) of type {object_type} do not match the new schema"
            f" (first: {ids}); fix or delete them, then set the schema again",
            details={"invalid": count, "objects": failing},
        )
