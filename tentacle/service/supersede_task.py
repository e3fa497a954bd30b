"""Give a running task a new goal, by an explicit policy.

reject: the task keeps its goal (an error says so). enqueue: the new goal becomes a task when
this one finishes. interrupt: this task stops now and the new one starts with what it completed
(its outputs are in the new task's context). rollback: this task stops now, the new one starts
clean, what the agents can undo is undone (a saved file goes to the trash; see
`messages.undo_message`), and the steps whose effects cannot be undone (a sent email) are listed.
"""

from __future__ import annotations

import json
from typing import Any

from contracts.envelope import Meta
from contracts.tentacle.models import (
    CreateTaskV1,
    StepStatus,
    SupersedePolicy,
    SupersedeResultV1,
    SupersedeTaskV1,
    task_id_for,
)
from tentacle.adapters.pg import Tx
from tentacle.adapters.task_queries import task_view
from tentacle.domain import commands
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.cycle import Cycle
from tentacle.domain.text import preview
from tentacle.service.create_task import insert_task
from tentacle.service.cycles import cycle_in
from tentacle.service.deps import Deps, require_org


async def supersede_task(deps: Deps, request: SupersedeTaskV1, meta: Meta) -> SupersedeResultV1:
    org_id = require_org(meta)
    new_task_id = task_id_for(org_id, request.request_id)
    follow_up: dict[str, Any] = {}

    async def act(c: Cycle, registry: AgentRegistry, tx: Tx) -> commands.Rollback:
        s = c.state
        follow_up["request"] = CreateTaskV1(
            request_id=request.request_id,
            goal=request.goal,
            constraints=request.constraints or s.constraints,
            budget_usd=request.budget_usd,
            conversation_id=s.conversation_id,
            parent_task_id=s.parent_task_id,
            context=_context(c, request.policy),
        )
        return commands.supersede(
            c,
            request.policy,
            goal=request.goal,
            new_task_id=new_task_id,
            by=meta.actor,
            registry=registry,
        )

    async with deps.db.transaction(org_id=org_id) as tx:
        rollback, old = await cycle_in(deps, tx, request.task_id, act, reply=True)
        new = None
        follow: CreateTaskV1 = follow_up["request"]
        if request.policy is SupersedePolicy.ENQUEUE:
            item = {
                "request": follow.model_dump(mode="json"),
                "actor": meta.actor.model_dump(mode="json"),
                "call_id": meta.call_id,
            }
            await tx.conn.execute(
                "UPDATE tasks SET queued = queued || $2::text::jsonb WHERE id = $1",
                request.task_id,
                _json([item]),
            )
        else:
            await insert_task(
                deps,
                tx,
                org_id=org_id,
                request=follow,
                actor=meta.actor,
                call_id=meta.call_id,
                root_call_id=meta.root_call_id,
            )
            new = await task_view(tx.conn, new_task_id)
    assert old is not None
    return SupersedeResultV1(
        policy=request.policy,
        task=old,
        new_task_id=new_task_id,
        new_task=new,
        irreversible_steps=rollback.lasting,
        undone_steps=rollback.undone,
    )


def _context(c: Cycle, policy: SupersedePolicy) -> dict[str, Any]:
    s = c.state
    carried: dict[str, Any] = {"task_id": s.task_id, "goal": s.goal}
    if policy is SupersedePolicy.INTERRUPT:
        carried["outputs"] = {
            step.step_id: preview(step.output, 2000)
            for step in s.steps.values()
            if step.status is StepStatus.COMPLETED
        }
    return {"superseded_task": carried}


def _json(value: Any) -> str:
    return json.dumps(value, default=str)
