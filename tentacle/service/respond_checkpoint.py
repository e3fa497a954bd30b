"""Answer a pending checkpoint; an approval or rejection also teaches the person's preferences."""

from __future__ import annotations

from contracts.envelope import ActorKind, Meta
from contracts.tentacle.checkpoints import (
    ApprovalResponseV1,
    CheckpointStatus,
    CheckpointV1,
    RespondCheckpointV1,
)
from contracts.tentacle.plans import CheckpointType
from tentacle.adapters import preference_store
from tentacle.adapters.pg import Tx
from tentacle.domain import commands, preferences
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.cycle import Cycle
from tentacle.service.cycles import run_cycle
from tentacle.service.deps import Deps, require_org


async def respond_checkpoint(deps: Deps, request: RespondCheckpointV1, meta: Meta) -> CheckpointV1:
    org_id = require_org(meta)

    async def act(c: Cycle, registry: AgentRegistry, tx: Tx) -> CheckpointV1:
        view = commands.respond(c, request.checkpoint_id, request.response, meta.actor, registry)
        await _learn(deps, tx, org_id, meta, view, request)
        return view

    view, _ = await run_cycle(deps, org_id, request.task_id, act)
    return view


async def _learn(
    deps: Deps,
    tx: Tx,
    org_id: str,
    meta: Meta,
    view: CheckpointV1,
    request: RespondCheckpointV1,
) -> None:
    """Approvals of plain approval checkpoints by people build up auto-approval."""
    response = request.response
    if view.type is not CheckpointType.APPROVAL or meta.actor.kind is not ActorKind.USER:
        return
    if not isinstance(response, ApprovalResponseV1):
        return
    now = deps.clock()
    known = await preference_store.load(tx.conn, meta.actor, [view.preference_key])
    before = known.get(view.preference_key)
    if view.status is CheckpointStatus.APPROVED:
        after = preferences.approved(
            before, now, deps.policy.preferences, remember=response.remember
        )
    else:
        after = preferences.rejected(before, now)
    await preference_store.save(tx.conn, org_id, meta.actor, view.preference_key, after)
