"""Resume a paused task where it stopped (planning again if it was paused while planning)."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.models import ResumeTaskV1, TaskV1
from tentacle.adapters.pg import Tx
from tentacle.domain import commands
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.cycle import Cycle
from tentacle.service.cycles import run_cycle
from tentacle.service.deps import Deps, require_org


async def resume_task(deps: Deps, request: ResumeTaskV1, meta: Meta) -> TaskV1:
    async def act(c: Cycle, registry: AgentRegistry, tx: Tx) -> None:
        commands.resume(c, meta.actor)

    _, view = await run_cycle(deps, require_org(meta), request.task_id, act, reply=True)
    assert view is not None
    return view
