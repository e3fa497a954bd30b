"""Retry a failed task: its failed and skipped steps run again (or it is planned again)."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.models import RetryTaskV1, TaskV1
from tentacle.adapters.pg import Tx
from tentacle.domain import commands
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.cycle import Cycle
from tentacle.service.cycles import run_cycle
from tentacle.service.deps import Deps, require_org


async def retry_task(deps: Deps, request: RetryTaskV1, meta: Meta) -> TaskV1:
    async def act(c: Cycle, registry: AgentRegistry, tx: Tx) -> None:
        commands.retry(c, meta.actor, request.budget_usd)

    _, view = await run_cycle(deps, require_org(meta), request.task_id, act, reply=True)
    assert view is not None
    return view
