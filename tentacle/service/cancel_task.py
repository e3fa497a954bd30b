"""Cancel a task: it stops for good; steps still running are ignored when they finish."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.models import CancelTaskV1, TaskV1
from tentacle.adapters.pg import Tx
from tentacle.domain import commands
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.cycle import Cycle
from tentacle.service.cycles import run_cycle
from tentacle.service.deps import Deps, require_org


async def cancel_task(deps: Deps, request: CancelTaskV1, meta: Meta) -> TaskV1:
    async def act(c: Cycle, registry: AgentRegistry, tx: Tx) -> None:
        commands.cancel(c, meta.actor, request.reason)

    _, view = await run_cycle(deps, require_org(meta), request.task_id, act, reply=True)
    assert view is not None
    return view
