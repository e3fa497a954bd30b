"""Read models: tasks, their plans, steps, checkpoints, events and costs, as callers see them.

Every query runs in an org-scoped transaction, so row-level security decides what exists: a task
of another organisation is simply not found.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

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
from tentacle.adapters.pg import Conn

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


_TASK_BY_ID: Final = f"SELECT {_TASK_COLUMNS} FROM tasks t WHERE t.id = $1"  # noqa: S608


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


async def task_view(conn: Conn, task_id: str) -> TaskV1 | None:
    row = await conn.fetchrow(_TASK_BY_ID, task_id)
    return _task(row) if row is not None else None


async def task_detail(conn: Conn, task_id: str, *, include_outputs: bool) -> TaskDetailV1 | None:
    task = await task_view(conn, task_id)
    if task is None:
        return None
    plan = None
    plan_row = await conn.fetchrow(
        "SELECT version, why, document, created_at FROM plans WHERE task_id = $1 AND version = $2",
        task_id,
        task.plan_version,
    )
    if plan_row is not None:
        plan = PlanRecordV1(
            version=plan_row["version"],
            why=plan_row["why"],
            document=PlanV1.model_validate(plan_row["document"]),
            created_at=plan_row["created_at"],
        )
        specs = {s.id: s for s in plan.document.steps}
    else:
        specs = {}
    rows = await conn.fetch(
        "SELECT * FROM steps WHERE task_id = $1 AND plan_version = $2 ORDER BY position",
        task_id,
        task.plan_version,
    )
    steps = []
    for r in rows:
        spec = specs.get(r["step_id"])
        steps.append(
            StepV1(
                step_id=r["step_id"],
                plan_version=r["plan_version"],
                agent=r["agent"],
                description=spec.description if spec else "",
                status=r["status"],
                attempts=r["attempts"],
                depends_on=spec.depends_on if spec else [],
                parallel_group=spec.parallel_group if spec else None,
                failure_policy=spec.failure_policy if spec else None,
                risk=spec.risk if spec else Risk.LOW,
                output=r["output"] if include_outputs else None,
                error=ErrorV1.model_validate(r["error"]) if r["error"] else None,
                cost_usd=r["cost_usd"],
                call_id=r["call_id"],
                parent_call_id=r["parent_call_id"],
                root_call_id=r["root_call_id"],
                started_at=r["started_at"],
                finished_at=r["finished_at"],
            )
        )
    views = await conn.fetch(
        "SELECT view FROM checkpoints WHERE task_id = $1 ORDER BY created_at", task_id
    )
    checkpoints = [CheckpointV1.model_validate(v["view"]) for v in views]
    if not include_outputs:
        task = task.model_copy(update={"result": None})
    return TaskDetailV1(task=task, plan=plan, steps=steps, checkpoints=checkpoints)


async def list_tasks(conn: Conn, query: ListTasksV1) -> list[TaskV1]:
    rows = await conn.fetch(
        f"SELECT {_TASK_COLUMNS} FROM tasks t"  # noqa: S608 - constant columns, bound values
        " WHERE (cardinality($1::text[]) = 0 OR t.status = ANY($1::text[]))"
        " AND ($2::text IS NULL OR t.conversation_id = $2)"
        " AND ($3::text IS NULL OR t.parent_task_id = $3)"
        " AND ($4::timestamptz IS NULL OR t.created_at < $4)"
        " ORDER BY t.created_at DESC, t.id DESC LIMIT $5",
        [s.value for s in query.statuses],
        query.conversation_id,
        query.parent_task_id,
        query.before,
        query.limit,
    )
    return [_task(r, with_result=False) for r in rows]


async def search_tasks(conn: Conn, query: SearchTasksV1) -> list[TaskV1]:
    rows = await conn.fetch(
        f"SELECT {_TASK_COLUMNS} FROM tasks t"  # noqa: S608 - constant columns, bound values
        " WHERE to_tsvector('english', t.goal) @@ websearch_to_tsquery('english', $1)"
        " AND (cardinality($2::text[]) = 0 OR t.status = ANY($2::text[]))"
        " ORDER BY ts_rank(to_tsvector('english', t.goal),"
        " websearch_to_tsquery('english', $1)) DESC,"
        " t.created_at DESC LIMIT $3",
        query.query,
        [s.value for s in query.statuses],
        query.limit,
    )
    return [_task(r, with_result=False) for r in rows]


async def list_events(conn: Conn, task_id: str, after_seq: int, limit: int) -> list[TaskEventV1]:
    rows = await conn.fetch(
        "SELECT event FROM task_events WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        task_id,
        after_seq,
        limit,
    )
    return [TaskEventV1.model_validate(r["event"]) for r in rows]


async def pending_checkpoints(
    conn: Conn, conversation_id: str | None, limit: int
) -> list[CheckpointV1]:
    rows = await conn.fetch(
        "SELECT c.view FROM checkpoints c JOIN tasks t ON t.id = c.task_id"
        " WHERE c.status = 'pending' AND ($1::text IS NULL OR t.conversation_id = $1)"
        " ORDER BY c.created_at LIMIT $2",
        conversation_id,
        limit,
    )
    return [CheckpointV1.model_validate(r["view"]) for r in rows]


async def task_cost(conn: Conn, task_id: str) -> TaskCostV1 | None:
    """The task's call tree: the task, its steps (every plan version), model and tool calls."""
    task = await task_view(conn, task_id)
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
    steps = await conn.fetch(
        "SELECT step_id, agent, cost_usd, call_id, parent_call_id, root_call_id, started_at"
        " FROM steps WHERE task_id = $1 AND call_id IS NOT NULL"
        " ORDER BY plan_version, position",
        task_id,
    )
    for s in steps:
        by_step[s["step_id"]] = by_step.get(s["step_id"], Decimal(0)) + s["cost_usd"]
        nodes.append(
            CallNodeV1(
                call_id=s["call_id"],
                parent_call_id=s["parent_call_id"],
                root_call_id=s["root_call_id"],
                kind=CallKind.STEP,
                name=s["agent"],
                step_id=s["step_id"],
                cost_usd=s["cost_usd"],
                at=s["started_at"],
            )
        )
    by_agent: dict[str, Decimal] = {}
    total = Decimal(0)
    reserved = Decimal(0)
    calls = await conn.fetch(
        "SELECT agent, status, held, spent, call_id, parent_call_id, root_call_id,"
        " created_at FROM budget_reservations WHERE task_id = $1 ORDER BY created_at",
        task_id,
    )
    for c in calls:
        spent = c["spent"] or Decimal(0)
        if c["status"] == "held":
            reserved += c["held"]
        total += spent
        agent = c["agent"] or "unknown"
        by_agent[agent] = by_agent.get(agent, Decimal(0)) + spent
        nodes.append(
            CallNodeV1(
                call_id=c["call_id"] or "unknown",
                parent_call_id=c["parent_call_id"],
                root_call_id=c["root_call_id"] or task.root_call_id,
                kind=CallKind.LLM,
                name=agent,
                cost_usd=spent,
                at=c["created_at"],
            )
        )
    tools = await conn.fetch(
        "SELECT tool, step_id, call_id, parent_call_id, root_call_id, created_at"
        " FROM side_effects WHERE task_id = $1 ORDER BY created_at",
        task_id,
    )
    nodes.extend(
        CallNodeV1(
            call_id=t["call_id"] or "unknown",
            parent_call_id=t["parent_call_id"],
            root_call_id=t["root_call_id"] or task.root_call_id,
            kind=CallKind.TOOL,
            name=t["tool"],
            step_id=t["step_id"],
            at=t["created_at"],
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
