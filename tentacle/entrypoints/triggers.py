"""Bus handlers of triggered tasks: the trigger RPCs, and the consumers that fire triggers on
integration and platform events and answer fired tasks once they end."""

from __future__ import annotations

from contracts.mimic.models import IntegrationEventV1
from contracts.tentacle.events import TaskEventV1
from contracts.tentacle.objects import ObjectChangedV1
from contracts.tentacle.triggers import (
    INTEGRATION_EVENTS_CONSUMER,
    OBJECT_EVENTS_CONSUMERS,
    TASK_EVENTS_CONSUMER,
    TRIGGER_CREATE,
    TRIGGER_DELETE,
    TRIGGER_DISABLE,
    TRIGGER_ENABLE,
    TRIGGER_GET,
    TRIGGER_LIST,
    TRIGGER_UPDATE,
    CreateTriggerV1,
    ListTriggersV1,
    TriggerDeletedV1,
    TriggerListV1,
    TriggerRefV1,
    TriggerV1,
    UpdateTriggerV1,
)
from shared.bus import Delivery, Request, Router
from shared.service import ServiceApp
from tentacle.adapters.pg import TaskDb
from tentacle.entrypoints import schedules
from tentacle.service import manage_triggers as manage
from tentacle.service.answer_trigger import answer_fired_task
from tentacle.service.fire_trigger import (
    fire_for_integration_event,
    fire_for_object_event,
    fire_for_task_event,
)
from tentacle.service.run_schedules import watch_schedules
from tentacle.service.trigger_deps import TriggerDeps


def register(router: Router, deps: TriggerDeps) -> None:
    @router.rpc(TRIGGER_CREATE)
    async def create(request: CreateTriggerV1, req: Request) -> TriggerV1:
        return await manage.create_trigger(deps, request, req.meta)

    @router.rpc(TRIGGER_GET)
    async def get(request: TriggerRefV1, req: Request) -> TriggerV1:
        return await manage.get_trigger(deps, request, req.meta)

    @router.rpc(TRIGGER_LIST)
    async def list_(request: ListTriggersV1, req: Request) -> TriggerListV1:
        return await manage.list_triggers(deps, request, req.meta)

    @router.rpc(TRIGGER_UPDATE)
    async def update(request: UpdateTriggerV1, req: Request) -> TriggerV1:
        return await manage.update_trigger(deps, request, req.meta)

    @router.rpc(TRIGGER_ENABLE)
    async def enable(request: TriggerRefV1, req: Request) -> TriggerV1:
        return await manage.enable_trigger(deps, request, req.meta)

    @router.rpc(TRIGGER_DISABLE)
    async def disable(request: TriggerRefV1, req: Request) -> TriggerV1:
        return await manage.disable_trigger(deps, request, req.meta)

    @router.rpc(TRIGGER_DELETE)
    async def delete(request: TriggerRefV1, req: Request) -> TriggerDeletedV1:
        return await manage.delete_trigger(deps, request, req.meta)

    @router.consumer(INTEGRATION_EVENTS_CONSUMER)
    async def integration_event(event: IntegrationEventV1, delivery: Delivery) -> None:
        await fire_for_integration_event(deps, event, delivery.meta)

    @router.consumer(TASK_EVENTS_CONSUMER)
    async def task_event(event: TaskEventV1, delivery: Delivery) -> None:
        # Answer first: a fired task's end never fires platform triggers (see fire_trigger).
        await answer_fired_task(deps, event)
        await fire_for_task_event(deps, event, delivery.meta)

    async def object_event(event: ObjectChangedV1, delivery: Delivery) -> None:
        await fire_for_object_event(deps, event, delivery.meta)

    for spec in OBJECT_EVENTS_CONSUMERS:
        router.consumer(spec)(object_event)


SCHEDULE_SWEEP_S = 1.0
"""How often due schedules are looked for (one indexed query when none is due)."""


def install_triggers(app: ServiceApp, router: Router, db: TaskDb) -> TriggerDeps:
    """Wire triggered and scheduled tasks into tentacle (called by its composition root)."""
    deps = TriggerDeps(db=db, platform=app.settings.platform)
    register(router, deps)
    schedules.register(router, deps)

    @app.background
    async def scheduler() -> None:
        await watch_schedules(deps, SCHEDULE_SWEEP_S)

    return deps
