"""Create, read, change, enable, disable and delete an organisation's triggers.

Every change is checked as a whole (filter, source and response together) before it is
written, so a trigger in the table is always one that can fire and answer.
"""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.ids import new_id
from contracts.tentacle.trigger_errors import TriggerErrorCode
from contracts.tentacle.triggers import (
    CreateTriggerV1,
    ListTriggersV1,
    TriggerDeletedV1,
    TriggerListV1,
    TriggerRefV1,
    TriggerV1,
    UpdateTriggerV1,
)
from tentacle.adapters import trigger_store as store
from tentacle.domain.trigger_errors import TriggerError
from tentacle.domain.triggers import check_trigger
from tentacle.service.deps import require_org
from tentacle.service.trigger_deps import TriggerDeps


def _not_found(trigger_id: str) -> TriggerError:
    # The same answer whether it does not exist or belongs to another organisation.
    return TriggerError(TriggerErrorCode.TRIGGER_NOT_FOUND, f"no trigger {trigger_id}")


async def create_trigger(deps: TriggerDeps, request: CreateTriggerV1, meta: Meta) -> TriggerV1:
    org_id = require_org(meta)
    now = deps.clock()
    trigger = TriggerV1(
        trigger_id=new_id(),
        org_id=org_id,
        name=request.name,
        goal=request.goal,
        callback=request.callback,
        trigger_source=request.trigger_source,
        integration_id=request.integration_id,
        event_type=request.event_type,
        event_filter=request.event_filter,
        response_type=request.response_type,
        response_integration_id=request.response_integration_id,
        response_channel_id=request.response_channel_id,
        enabled=request.enabled,
        version=1,
        created_by=meta.actor,
        created_at=now,
        updated_at=now,
    )
    check_trigger(trigger)
    async with deps.db.transaction(org_id=org_id) as tx:
        return await store.insert_trigger(tx.conn, trigger)


async def get_trigger(deps: TriggerDeps, request: TriggerRefV1, meta: Meta) -> TriggerV1:
    async with deps.db.statement(org_id=require_org(meta)) as tx:
        trigger = await store.get_trigger(tx.conn, request.trigger_id)
    if trigger is None:
        raise _not_found(request.trigger_id)
    return trigger


async def list_triggers(deps: TriggerDeps, request: ListTriggersV1, meta: Meta) -> TriggerListV1:
    async with deps.db.statement(org_id=require_org(meta)) as tx:
        found = await store.list_triggers(
            tx.conn,
            request.trigger_source,
            include_disabled=request.include_disabled,
            limit=request.limit,
        )
    return TriggerListV1(triggers=found)


async def update_trigger(deps: TriggerDeps, request: UpdateTriggerV1, meta: Meta) -> TriggerV1:
    given = request.model_dump(exclude={"trigger_id", "expected_version", "clear"})
    changes: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    changes.update(dict.fromkeys(request.clear))
    return await _change(deps, meta, request.trigger_id, changes, request.expected_version)


async def enable_trigger(deps: TriggerDeps, request: TriggerRefV1, meta: Meta) -> TriggerV1:
    return await _change(deps, meta, request.trigger_id, {"enabled": True}, None)


async def disable_trigger(deps: TriggerDeps, request: TriggerRefV1, meta: Meta) -> TriggerV1:
    return await _change(deps, meta, request.trigger_id, {"enabled": False}, None)


async def delete_trigger(deps: TriggerDeps, request: TriggerRefV1, meta: Meta) -> TriggerDeletedV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        if not await store.delete_trigger(tx.conn, request.trigger_id):
            raise _not_found(request.trigger_id)
    return TriggerDeletedV1(trigger_id=request.trigger_id)


async def _change(
    deps: TriggerDeps,
    meta: Meta,
    trigger_id: str,
    changes: dict[str, object],
    expected_version: int | None,
) -> TriggerV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        current = await store.get_trigger(tx.conn, trigger_id, for_update=True)
        if current is None:
            raise _not_found(trigger_id)
        if expected_version is not None and expected_version != current.version:
            raise TriggerError(
                TriggerErrorCode.TRIGGER_INVALID,
                f"trigger {trigger_id} is at version {current.version}, not {expected_version}",
                details={"version": current.version},
            )
        changed = TriggerV1.model_validate({**current.model_dump(), **changes})
        if changed == current:
            return current
        check_trigger(changed)
        return await store.save_trigger(tx.conn, changed, at=deps.clock())
