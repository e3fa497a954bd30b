"""Request-reply handlers: contract in, use case, contract out (errors become coded replies)."""

from __future__ import annotations

from contracts.tentacle import subjects as s
from contracts.tentacle.checkpoints import (
    CheckpointListV1,
    CheckpointV1,
    ListCheckpointsV1,
    ListPreferencesV1,
    PreferenceListV1,
    PreferenceV1,
    RespondCheckpointV1,
    RevokePreferenceV1,
)
from contracts.tentacle.events import TaskEventListV1
from contracts.tentacle.models import (
    CancelTaskV1,
    CapabilityListV1,
    CapabilityV1,
    CreateTaskV1,
    GetTaskV1,
    ListCapabilitiesV1,
    ListTaskEventsV1,
    ListTasksV1,
    PauseTaskV1,
    RegisterAgentV1,
    ResumeTaskV1,
    RetryTaskV1,
    SearchTasksV1,
    SupersedeResultV1,
    SupersedeTaskV1,
    TaskCostV1,
    TaskDetailV1,
    TaskListV1,
    TaskRefV1,
    TaskV1,
)
from shared.bus import Request, Router
from tentacle.service import agents, preferences, queries
from tentacle.service.cancel_task import cancel_task
from tentacle.service.create_task import create_task
from tentacle.service.deps import Deps
from tentacle.service.pause_task import pause_task
from tentacle.service.respond_checkpoint import respond_checkpoint
from tentacle.service.resume_task import resume_task
from tentacle.service.retry_task import retry_task
from tentacle.service.supersede_task import supersede_task


def register(router: Router, deps: Deps) -> None:
    @router.rpc(s.TASK_CREATE_RPC)
    async def create(request: CreateTaskV1, req: Request) -> TaskV1:
        return await create_task(deps, request, req.meta)

    @router.rpc(s.TASK_PAUSE)
    async def pause(request: PauseTaskV1, req: Request) -> TaskV1:
        return await pause_task(deps, request, req.meta)

    @router.rpc(s.TASK_RESUME)
    async def resume(request: ResumeTaskV1, req: Request) -> TaskV1:
        return await resume_task(deps, request, req.meta)

    @router.rpc(s.TASK_CANCEL)
    async def cancel(request: CancelTaskV1, req: Request) -> TaskV1:
        return await cancel_task(deps, request, req.meta)

    @router.rpc(s.TASK_RETRY)
    async def retry(request: RetryTaskV1, req: Request) -> TaskV1:
        return await retry_task(deps, request, req.meta)

    @router.rpc(s.TASK_SUPERSEDE)
    async def supersede(request: SupersedeTaskV1, req: Request) -> SupersedeResultV1:
        return await supersede_task(deps, request, req.meta)

    @router.rpc(s.TASK_RESPOND_CHECKPOINT)
    async def respond(request: RespondCheckpointV1, req: Request) -> CheckpointV1:
        return await respond_checkpoint(deps, request, req.meta)

    @router.rpc(s.TASK_GET)
    async def get(request: GetTaskV1, req: Request) -> TaskDetailV1:
        return await queries.get_task(deps, request, req.meta)

    @router.rpc(s.TASK_LIST)
    async def list_(request: ListTasksV1, req: Request) -> TaskListV1:
        return await queries.list_tasks(deps, request, req.meta)

    @router.rpc(s.TASK_SEARCH)
    async def search(request: SearchTasksV1, req: Request) -> TaskListV1:
        return await queries.search_tasks(deps, request, req.meta)

    @router.rpc(s.TASK_EVENTS)
    async def events(request: ListTaskEventsV1, req: Request) -> TaskEventListV1:
        return await queries.list_task_events(deps, request, req.meta)

    @router.rpc(s.TASK_COST)
    async def cost(request: TaskRefV1, req: Request) -> TaskCostV1:
        return await queries.task_cost(deps, request, req.meta)

    @router.rpc(s.CHECKPOINT_LIST)
    async def checkpoints(request: ListCheckpointsV1, req: Request) -> CheckpointListV1:
        return await queries.list_checkpoints(deps, request, req.meta)

    @router.rpc(s.PREFERENCE_LIST)
    async def prefs(request: ListPreferencesV1, req: Request) -> PreferenceListV1:
        return await preferences.list_preferences(deps, request, req.meta)

    @router.rpc(s.PREFERENCE_REVOKE)
    async def revoke(request: RevokePreferenceV1, req: Request) -> PreferenceV1:
        return await preferences.revoke_preference(deps, request, req.meta)

    @router.rpc(s.CAPABILITIES_LIST)
    async def capabilities(request: ListCapabilitiesV1, req: Request) -> CapabilityListV1:
        return await agents.list_capabilities(deps, request, req.meta)

    @router.rpc(s.AGENT_REGISTER)
    async def register_agent(request: RegisterAgentV1, req: Request) -> CapabilityV1:
        return await agents.register_agent(deps, request, req.meta)
