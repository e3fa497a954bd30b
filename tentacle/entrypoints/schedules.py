"""Bus handlers of scheduled tasks: the schedule RPCs and the org time zone they may follow
(the sweep is a background loop)."""

from __future__ import annotations

from contracts.inkpass.models import OrgSettingsV1
from contracts.tentacle.schedules import (
    ORG_ZONES_CONSUMER,
    SCHEDULE_CREATE,
    SCHEDULE_DELETE,
    SCHEDULE_DISABLE,
    SCHEDULE_ENABLE,
    SCHEDULE_GET,
    SCHEDULE_LIST,
    SCHEDULE_UPDATE,
    CreateScheduleV1,
    ListSchedulesV1,
    ScheduleDeletedV1,
    ScheduleListV1,
    ScheduleRefV1,
    ScheduleV1,
    UpdateScheduleV1,
)
from shared.bus import Delivery, Request, Router
from tentacle.service import manage_schedules as manage
from tentacle.service.follow_org_zone import follow_org_zone
from tentacle.service.trigger_deps import TriggerDeps


def register(router: Router, deps: TriggerDeps) -> None:
    @router.consumer(ORG_ZONES_CONSUMER)
    async def org_settings_changed(settings: OrgSettingsV1, delivery: Delivery) -> None:
        await follow_org_zone(deps, settings)

    @router.rpc(SCHEDULE_CREATE)
    async def create(request: CreateScheduleV1, req: Request) -> ScheduleV1:
        return await manage.create_schedule(deps, request, req.meta)

    @router.rpc(SCHEDULE_GET)
    async def get(request: ScheduleRefV1, req: Request) -> ScheduleV1:
        return await manage.get_schedule(deps, request, req.meta)

    @router.rpc(SCHEDULE_LIST)
    async def list_(request: ListSchedulesV1, req: Request) -> ScheduleListV1:
        return await manage.list_schedules(deps, request, req.meta)

    @router.rpc(SCHEDULE_UPDATE)
    async def update(request: UpdateScheduleV1, req: Request) -> ScheduleV1:
        return await manage.update_schedule(deps, request, req.meta)

    @router.rpc(SCHEDULE_ENABLE)
    async def enable(request: ScheduleRefV1, req: Request) -> ScheduleV1:
        return await manage.enable_schedule(deps, request, req.meta)

    @router.rpc(SCHEDULE_DISABLE)
    async def disable(request: ScheduleRefV1, req: Request) -> ScheduleV1:
        return await manage.disable_schedule(deps, request, req.meta)

    @router.rpc(SCHEDULE_DELETE)
    async def delete(request: ScheduleRefV1, req: Request) -> ScheduleDeletedV1:
        return await manage.delete_schedule(deps, request, req.meta)
