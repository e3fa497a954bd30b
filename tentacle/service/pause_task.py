"""Pause a task: no new step starts until it is resumed (running steps finish and are kept)."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.models import PauseTaskV1, TaskV1
from tentacle.adapters.pg import Tx
from tentacle.domain import commands
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.cycle import Cycle
from tentacle.service.cycles import run_cycle
from tentacle.service.deps import Deps, require_org


async def pause_task(deps: Deps, request: PauseTaskV1, meta: Meta) -> TaskV1:
    async def act(c: Cycle, registry: AgentRegistry, tx: Tx) -> None:
        commands.pause(c, meta.actor, request.reason)

    _, view = await run_cycle(deps, require_org(meta), request.task_id, act, reply=True)
    assert view is not None
    return view
