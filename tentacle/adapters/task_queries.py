"""Read models: tasks, their plans, steps, checkpoints, events and costs, as callers see them.

Every query runs in an org-scoped transaction, so row-level security decides what exists: a task
of another organisation is simply not found.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Actor, ErrorV1
from contracts.tentacle.checkpoints import CheckpointV1
from contracts.tentacle.events import TaskEventV1
from contracts.tentacle.models import (
    CallKind,
    CallNodeV1,
    ListTasksV1,
    PlanRecordV1,
    SearchTasksV1,
    StepV1,
    TaskConstraintsV1,
    TaskCostV1,
    TaskDetailV1,
    TaskV1,
)
from contracts.tentacle.plans import PlanV1, Risk

_TASK_COLUMNS: Final = """
    t.id, t.org_id, t.request_id, t.goal, t.status, t.terminal_reason, t.error, t.constraints,
    t.budget_usd, t.conversation_id, t.parent_task_id, t.created_by, t.fast_path,
    t.replan_count, t.plan_version, t.event_seq, t.result, t.summary, t.call_id,
    t.root_call_id, t.created_at, t.updated_at, t.finished_at,
    (SELECT count(*) FROM steps s
      WHERE s.task_id = t.id AND s.plan_version = t.plan_version) AS steps_total,
    (SELECT count(*) FROM steps s
      WHERE s.task_id = t.id AND s.plan_version = t.plan_version
        AND (s.status = 'completed' OR (s.status = 'failed' AND s.tolerated))) AS steps_done,
    COALESCE((SELECT u.spent FROM budget_usage u
               WHERE u.org_id = t.org_id AND u.scope = 'task' AND u.key = t.id), 0) AS spent
"""


def _task(m: Any, *, with_result: bool = True) -> TaskV1:
    return TaskV1(
        task_id=m["id"],
        org_id=m["org_id"],
        request_id=m["request_id"],
        goal=m["goal"],
        status=m["status"],
        terminal_reason=m["terminal_reason"],
        error=ErrorV1.model_validate(m["error"]) if m["error"] else None,
        constraints=TaskConstraintsV1.model_validate(m["constraints"]),
        budget_usd=m["budget_usd"],
        spent_usd=m["spent"],
        conversation_id=m["conversation_id"],
        parent_task_id=m["parent_task_id"],
        created_by=Actor.model_validate(m["created_by"]),
        fast_path=m["fast_path"],
        replan_count=m["replan_count"],
        plan_version=m["plan_version"],
        event_seq=m["event_seq"],
        steps_total=m["steps_total"],
        steps_done=m["steps_done"],
        result=m["result"] if with_result else None,
        summary=m["summary"],
        call_id=m["call_id"],
        root_call_id=m["root_call_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        finished_at=m["finished_at"],
    )


async def task_view(session: AsyncSession, task_id: str) -> TaskV1 | None:
    row = (
        await session.execute(
            text(f"SELECT {_TASK_COLUMNS} FROM tasks t WHERE t.id = :id"),  # noqa: S608
            {"id": task_id},
        )
    ).first()
    return _task(row._mapping) if row is not None else None


async def task_detail(
    session: AsyncSession, task_id: str, *, include_outputs: bool
) -> TaskDetailV1 | None:
    task = await task_view(session, task_id)
    if task is None:
        return None
    plan = None
    plan_row = (
        await session.execute(
            text(
                "SELECT version, why, document, created_at FROM plans"
                " WHERE task_id = :id AND version = :v"
            ),
            {"id": task_id, "v": task.plan_version},
        )
    ).first()
    if plan_row is not None:
        plan = PlanRecordV1(
            version=plan_row.version,
            why=plan_row.why,
            document=PlanV1.model_validate(plan_row.document),
            created_at=plan_row.created_at,
        )
        specs = {s.id: s for s in plan.document.steps}
    else:
        specs = {}
    rows = await session.execute(
        text("SELECT * FROM steps WHERE task_id = :id AND plan_version = :v ORDER BY position"),
        {"id": task_id, "v": task.plan_version},
    )
    steps = []
    for r in rows:
        spec = specs.get(r.step_id)
        steps.append(
            StepV1(
                step_id=r.step_id,
                plan_version=r.plan_version,
                agent=r.agent,
                description=spec.description if spec else "",
                status=r.status,
                attempts=r.attempts,
                depends_on=spec.depends_on if spec else [],
                parallel_group=spec.parallel_group if spec else None,
                failure_policy=spec.failure_policy if spec else None,
                risk=spec.risk if spec else Risk.LOW,
                output=r.output if include_outputs else None,
                error=ErrorV1.model_validate(r.error) if r.error else None,
                cost_usd=r.cost_usd,
                call_id=r.call_id,
                parent_call_id=r.parent_call_id,
                root_call_id=r.root_call_id,
                started_at=r.started_at,
                finished_at=r.finished_at,
            )
        )
    views = await session.execute(
        text("SELECT view FROM checkpoints WHERE task_id = :id ORDER BY created_at"),
        {"id": task_id},
    )
    checkpoints = [CheckpointV1.model_validate(v.view) for v in views]
    if not include_outputs:
        task = task.model_copy(update={"result": None})
    return TaskDetailV1(task=task, plan=plan, steps=steps, checkpoints=checkpoints)


async def list_tasks(session: AsyncSession, query: ListTasksV1) -> list[TaskV1]:
    clauses = ["true"]
    params: dict[str, Any] = {"limit": query.limit}
    if query.statuses:
        clauses.append("t.status = ANY(:statuses)")
        params["statuses"] = [s.value for s in query.statuses]
    if query.conversation_id is not None:
        clauses.append("t.conversation_id = :conversation")
        params["conversation"] = query.conversation_id
    if query.parent_task_id is not None:
        clauses.append("t.parent_task_id = :parent")
        params["parent"] = query.parent_task_id
    if query.before is not None:
        clauses.append("t.created_at < :before")
        params["before"] = query.before
    where = " AND ".join(clauses)
    rows = await session.execute(
        text(  # the clauses are constants above; values are bound
            f"SELECT {_TASK_COLUMNS} FROM tasks t WHERE {where}"  # noqa: S608
            " ORDER BY t.created_at DESC, t.id DESC LIMIT :limit"
        ),
        params,
    )
    return [_task(r._mapping, with_result=False) for r in rows]


async def search_tasks(session: AsyncSession, query: SearchTasksV1) -> list[TaskV1]:
    params: dict[str, Any] = {"q": query.query, "limit": query.limit}
    status_clause = ""
    if query.statuses:
        status_clause = " AND t.status = ANY(:statuses)"
        params["statuses"] = [s.value for s in query.statuses]
    rows = await session.execute(
        text(
            f"SELECT {_TASK_COLUMNS} FROM tasks t"  # noqa: S608
            " WHERE t.search @@ websearch_to_tsquery('english', :q)"
            f"{status_clause}"
            " ORDER BY ts_rank(t.search, websearch_to_tsquery('english', :q)) DESC,"
            " t.created_at DESC LIMIT :limit"
        ),
        params,
    )
    return [_task(r._mapping, with_result=False) for r in rows]


async def list_events(
    session: AsyncSession, task_id: str, after_seq: int, limit: int
) -> list[TaskEventV1]:
    rows = await session.execute(
        text(
            "SELECT event FROM task_events WHERE task_id = :id AND seq > :after"
            " ORDER BY seq LIMIT :limit"
        ),
        {"id": task_id, "after": after_seq, "limit": limit},
    )
    return [TaskEventV1.model_validate(r.event) for r in rows]


async def pending_checkpoints(
    session: AsyncSession, conversation_id: str | None, limit: int
) -> list[CheckpointV1]:
    params: dict[str, Any] = {"limit": limit}
    clause = ""
    if conversation_id is not None:
        clause = " AND t.conversation_id = :conversation"
        params["conversation"] = conversation_id
    statement = (
        "SELECT c.view FROM checkpoints c JOIN tasks t ON t.id = c.task_id"  # noqa: S608
        f" WHERE c.status = 'pending'{clause} ORDER BY c.created_at LIMIT :limit"
    )
    rows = await session.execute(text(statement), params)
    return [CheckpointV1.model_validate(r.view) for r in rows]


async def task_cost(session: AsyncSession, task_id: str) -> TaskCostV1 | None:
    """The task's call tree: the task, its steps (every plan version), model and tool calls."""
    task = await task_view(session, task_id)
    if task is None:
        return None
    nodes = [
        CallNodeV1(
            call_id=task.call_id,
            root_call_id=task.root_call_id,
            kind=CallKind.TASK,
            name="task",
            at=task.created_at,
        )
    ]
    by_step: dict[str, Decimal] = {}
    steps = await session.execute(
        text(
            "SELECT step_id, agent, cost_usd, call_id, parent_call_id, root_call_id, started_at"
            " FROM steps WHERE task_id = :id AND call_id IS NOT NULL"
            " ORDER BY plan_version, position"
        ),
        {"id": task_id},
    )
    for s in steps:
        by_step[s.step_id] = by_step.get(s.step_id, Decimal(0)) + s.cost_usd
        nodes.append(
            CallNodeV1(
                call_id=s.call_id,
                parent_call_id=s.parent_call_id,
                root_call_id=s.root_call_id,
                kind=CallKind.STEP,
                name=s.agent,
                step_id=s.step_id,
                cost_usd=s.cost_usd,
                at=s.started_at,
            )
        )
    by_agent: dict[str, Decimal] = {}
    total = Decimal(0)
    reserved = Decimal(0)
    calls = await session.execute(
        text(
            "SELECT agent, status, held, spent, call_id, parent_call_id, root_call_id,"
            " created_at FROM budget_reservations WHERE task_id = :id ORDER BY created_at"
        ),
        {"id": task_id},
    )
    for c in calls:
        spent = c.spent or Decimal(0)
        if c.status == "held":
            reserved += c.held
        total += spent
        agent = c.agent or "unknown"
        by_agent[agent] = by_agent.get(agent, Decimal(0)) + spent
        nodes.append(
            CallNodeV1(
                call_id=c.call_id or "unknown",
                parent_call_id=c.parent_call_id,
                root_call_id=c.root_call_id or task.root_call_id,
                kind=CallKind.LLM,
                name=agent,
                cost_usd=spent,
                at=c.created_at,
            )
        )
    tools = await session.execute(
        text(
            "SELECT tool, step_id, call_id, parent_call_id, root_call_id, created_at"
            " FROM side_effects WHERE task_id = :id ORDER BY created_at"
        ),
        {"id": task_id},
    )
    nodes.extend(
        CallNodeV1(
            call_id=t.call_id or "unknown",
            parent_call_id=t.parent_call_id,
            root_call_id=t.root_call_id or task.root_call_id,
            kind=CallKind.TOOL,
            name=t.tool,
            step_id=t.step_id,
            at=t.created_at,
        )
        for t in tools
    )
    return TaskCostV1(
        task_id=task_id,
        root_call_id=task.root_call_id,
        total_usd=total,
        reserved_usd=reserved,
        by_agent=by_agent,
        by_step=by_step,
        calls=nodes,
    )
