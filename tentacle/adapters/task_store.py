"""Loading a task, and writing back what a cycle changed, versioned.

The load is one statement (task row, plan document, step states and open checkpoints
aggregated in); the write is one statement too (data-modifying CTEs: the task row, plan,
steps, events, checkpoints, journal, timer and the outbox rows of the cycle's messages). A
one-statement cycle's write shares a commit with others ready at the same moment (group
commit, `group_commit.py`), each still checking its own version. The write applies only if
the task row is still at the version the cycle read: concurrent cycles of one task (two
replicas, a redelivery, a command racing a step) serialise on the row, and the loser writes
nothing and starts again from the new state. Event sequence numbers follow the version the
write checks, so a task's events are numbered without gaps however many replicas work on it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from contracts.envelope import Actor, ErrorV1
from contracts.tentacle.checkpoints import CheckpointV1
from contracts.tentacle.models import (
    CreateTaskV1,
    StepStatus,
    TaskConstraintsV1,
    TaskStatus,
    TerminalReason,
)
from contracts.tentacle.plans import PlanV1
from shared.db.raw_outbox import outbox_params
from tentacle.adapters import messages
from tentacle.adapters.pg import LEASE_S, Conn, Tx
from tentacle.adapters.plan_cache import PlanCache
from tentacle.domain.cycle import Cycle
from tentacle.domain.lifecycle import TERMINAL
from tentacle.domain.state import CheckpointState, StepState, TaskState
from tentacle.service.ports import Effect

_LOAD: Final = """
    SELECT t.id, t.org_id, t.status, t.goal, t.created_by, t.constraints, t.context,
           t.event_seq, t.call_id, t.root_call_id, t.budget_usd, t.conversation_id,
           t.parent_task_id, t.paused_from, t.plan_version, t.replan_count, t.terminal_reason,
           t.error, t.result, t.summary, t.fast_path, t.finished_at, t.version,
           jsonb_array_length(t.queued) > 0 AS has_queued,
           CASE WHEN $2 THEN p.document END AS document, p.why,
           (SELECT json_agg(json_build_array(
                       s.step_id, s.agent, s.status, s.attempts, s.output, s.error, s.tolerated,
                       s.cleared, s.call_id, s.parent_call_id, s.root_call_id, s.cost_usd,
                       s.started_at, s.finished_at) ORDER BY s.position)
              FROM steps s
             WHERE s.task_id = t.id AND s.plan_version = t.plan_version) AS steps,
           (SELECT json_agg(c.view)
              FROM checkpoints c
             WHERE c.task_id = t.id
               AND (c.status = 'pending' OR c.plan_version = t.plan_version)) AS checkpoints
      FROM tasks t
      LEFT JOIN plans p ON p.task_id = t.id AND p.version = t.plan_version
     WHERE t.id = $1
"""

_INSERT_TASK: Final = """
    WITH task AS (
        INSERT INTO tasks (id, org_id, request_id, request_hash, goal, constraints, context,
                           budget_usd, conversation_id, parent_task_id, status, created_by,
                           call_id, root_call_id, event_seq, version)
        VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, $8, $9, $10, $11,
                $12::text::jsonb, $13, $14, 0, 0)
        ON CONFLICT (org_id, request_id) DO NOTHING
        RETURNING id
    ), timer AS (
        INSERT INTO task_timers (task_id, org_id, due_at)
        SELECT id, $2, now() + make_interval(secs => $15) FROM task
        ON CONFLICT (task_id) DO NOTHING
    )
    SELECT id FROM task
"""

# One statement for everything a cycle writes, applied only if the task is still at the
# version the cycle decided on (`t`); every other part waits on `t`, so on a conflict nothing
# is written at all. Each part is a no-op when its input is empty.
_WRITE: Final = """
    WITH t AS (
        UPDATE tasks
           SET status = $11, paused_from = $12, plan_version = $2, replan_count = $13,
               terminal_reason = $14, error = $15::text::jsonb, result = $16::text::jsonb,
               summary = $17, fast_path = $18, finished_at = $19, event_seq = $20,
               budget_usd = $21, version = $28 + 1, updated_at = now()
         WHERE id = $1 AND version = $28
        RETURNING id
    ), plan AS (
        INSERT INTO plans (task_id, version, org_id, document, why)
        SELECT $1, $2, $3, $4::text::jsonb, $5 FROM t WHERE $4::text IS NOT NULL
    ), new_steps AS (
        INSERT INTO steps (task_id, plan_version, org_id, step_id, position, agent, status,
                           attempts, output, error, tolerated, cleared, call_id,
                           parent_call_id, root_call_id, cost_usd, started_at, finished_at)
        SELECT $1, $2, $3, x.step_id, x.position, x.agent, x.status, x.attempts, x.output,
               x.error, x.tolerated, x.cleared, x.call_id, x.parent_call_id, x.root_call_id,
               x.cost_usd, x.started_at, x.finished_at
          FROM t, jsonb_to_recordset($6::text::jsonb)
            AS x(step_id text, position int, agent text, status text, attempts int,
                 output jsonb, error jsonb, tolerated bool, cleared jsonb, call_id text,
                 parent_call_id text, root_call_id text, cost_usd numeric,
                 started_at timestamptz, finished_at timestamptz)
         WHERE $7
    ), changed_steps AS (
        UPDATE steps AS s
           SET status = x.status, attempts = x.attempts, output = x.output, error = x.error,
               tolerated = x.tolerated, cleared = x.cleared, call_id = x.call_id,
               parent_call_id = x.parent_call_id, root_call_id = x.root_call_id,
               cost_usd = x.cost_usd, started_at = x.started_at, finished_at = x.finished_at
          FROM t, jsonb_to_recordset($6::text::jsonb)
            AS x(step_id text, status text, attempts int, output jsonb, error jsonb,
                 tolerated bool, cleared jsonb, call_id text, parent_call_id text,
                 root_call_id text, cost_usd numeric, started_at timestamptz,
                 finished_at timestamptz)
         WHERE NOT $7 AND s.task_id = $1 AND s.plan_version = $2 AND s.step_id = x.step_id
    ), events AS (
        INSERT INTO task_events (task_id, seq, org_id, kind, event, occurred_at)
        SELECT $1, x.seq, $3, x.kind, x.event, x.occurred_at
          FROM t, jsonb_to_recordset($8::text::jsonb)
            AS x(seq int, kind text, event jsonb, occurred_at timestamptz)
    ), new_checkpoints AS (
        INSERT INTO checkpoints (id, org_id, task_id, step_id, plan_version, status, view,
                                 expires_at, resolved_at)
        SELECT x.id, $3, $1, x.step_id, x.plan_version, x.status, x.view, x.expires_at,
               x.resolved_at
          FROM t, jsonb_to_recordset($9::text::jsonb)
            AS x(id text, step_id text, plan_version int, status text, view jsonb,
                 expires_at timestamptz, resolved_at timestamptz)
    ), changed_checkpoints AS (
        UPDATE checkpoints AS c
           SET status = x.status, view = x.view, resolved_at = x.resolved_at
          FROM t, jsonb_to_recordset($10::text::jsonb)
            AS x(id text, status text, view jsonb, resolved_at timestamptz)
         WHERE c.id = x.id AND c.task_id = $1
    ), outbox AS (
        INSERT INTO fluxos_outbox (batch, subject, headers, body, message_id, next_attempt_at)
        SELECT $22::uuid, u.subject, u.headers::jsonb, u.body, u.message_id,
               clock_timestamp() + make_interval(secs => $33::float8)
          FROM t, unnest($23::text[], $24::text[], $25::bytea[], $26::text[])
               WITH ORDINALITY AS u(subject, headers, body, message_id, n)
         ORDER BY u.n
        RETURNING id
    ), marks AS (
        UPDATE fluxos_outbox SET published_at = now(), last_error = NULL
         WHERE id = ANY($27::bigint[]) AND published_at IS NULL
    ), journal AS (
        INSERT INTO side_effects (org_id, key, task_id, step_id, tool, call_id,
                                  parent_call_id, root_call_id, status, result, completed_at)
        SELECT $3, x.key, $1, x.step_id, x.tool, x.call_id, x.parent_call_id, x.root_call_id,
               'done', x.result, now()
          FROM t, jsonb_to_recordset($29::text::jsonb)
            AS x(key text, step_id text, tool text, call_id text, parent_call_id text,
                 root_call_id text, result jsonb)
        ON CONFLICT (org_id, key) DO NOTHING
    ), timer AS (
        UPDATE task_timers
           SET finished_at = CASE WHEN $30 THEN now() END,
               pruned_at = CASE WHEN $30 THEN NULL ELSE pruned_at END,
               due_at = CASE WHEN $30 THEN NULL ELSE LEAST(
                   CASE WHEN $31::float8 IS NOT NULL
                        THEN now() + make_interval(secs => $31::float8) ELSE due_at END,
                   $32::timestamptz) END
          FROM t
         WHERE task_timers.task_id = $1
           AND ($30 OR $31::float8 IS NOT NULL OR $32::timestamptz IS NOT NULL)
    )
    SELECT (SELECT count(*) FROM t) = 1 AS applied,
           coalesce((SELECT array_agg(id ORDER BY id) FROM outbox), '{}') AS ids
"""

_TIMER_SET: Final = "UPDATE task_timers SET due_at = $2 WHERE task_id = $1"


def request_hash(request: CreateTaskV1) -> str:
    """What makes two creates the same request (a retry) rather than a reuse of the id."""
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _json_or_none(value: Any) -> str | None:
    return None if value is None else _dumps(value)


def _error_json(error: ErrorV1 | None) -> Any:
    return None if error is None else error.model_dump(mode="json")


# Enum lookups by value through a dict: `Enum(value)` is measurably slow on this hot path.
_STEP_STATUS: Final = {s.value: s for s in StepStatus}
_TASK_STATUS: Final = {s.value: s for s in TaskStatus}


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


class TaskStore:
    """Tasks in and out of the database, with a cache of the states this replica wrote last.

    A cached state is reused only if its version is still the task's (the next write checks);
    a state is taken out of the cache while a cycle works on it and put back only after a
    successful write, so a failed cycle never leaves a half-changed state behind.
    """

    def __init__(
        self, plans: PlanCache, pools: dict[str, str] | None = None, *, cache_size: int = 2048
    ) -> None:
        self.plans = plans
        self._pools = pools or {}
        self._states: OrderedDict[str, TaskState] = OrderedDict()
        self._cache_size = cache_size

    def pool_of(self, agent: str) -> str:
        """The worker pool an agent's steps are dispatched to."""
        return self._pools.get(agent, "custom")

    # ================================================================== cache
    def take_cached(self, task_id: str, *, at_least: int = 0) -> TaskState | None:
        state = self._states.pop(task_id, None)
        if state is None or state.version < at_least:
            return None
        return state

    def keep(self, state: TaskState) -> None:
        if state.status in TERMINAL:  # nothing more will run for it here
            self._states.pop(state.task_id, None)
            return
        self._states[state.task_id] = state
        self._states.move_to_end(state.task_id)
        while len(self._states) > self._cache_size:
            self._states.popitem(last=False)

    def forget(self, task_id: str) -> None:
        self._states.pop(task_id, None)

    # ================================================================== create
    async def insert(
        self,
        conn: Conn,
        *,
        task_id: str,
        org_id: str,
        request: CreateTaskV1,
        budget_usd: Decimal,
        created_by: Actor,
        call_id: str,
        root_call_id: str,
        recovery_after_s: float,
    ) -> bool:
        """False if the request id was used before (the existing task stands)."""
        row = await conn.fetchrow(
            _INSERT_TASK,
            task_id,
            org_id,
            request.request_id,
            request_hash(request),
            request.goal,
            request.constraints.model_dump_json(),
            _dumps(request.context),
            budget_usd,
            request.conversation_id,
            request.parent_task_id,
            TaskStatus.PLANNING.value,
            created_by.model_dump_json(),
            call_id,
            root_call_id,
            recovery_after_s,
        )
        return row is not None

    # ================================================================== load
    async def load(self, conn: Conn, task_id: str) -> TaskState | None:
        """The task as it is now, or None if this organisation has no such task."""
        cached = self.plans.known_version(task_id)
        m = await conn.fetchrow(_LOAD, task_id, cached is None)
        if m is None:
            return None
        plan: PlanV1 | None = None
        version = m["plan_version"]
        if version:
            plan = self.plans.get(task_id, version)
            if plan is None:
                document = m["document"]
                if document is None:  # the cache knew another version: read this one
                    document = await conn.fetchval(
                        "SELECT document FROM plans WHERE task_id = $1 AND version = $2",
                        task_id,
                        version,
                    )
                plan = PlanV1.model_validate(document)
                self.plans.put(task_id, version, plan)
        state = TaskState(
            task_id=m["id"],
            org_id=m["org_id"],
            status=_TASK_STATUS[m["status"]],
            goal=m["goal"],
            created_by=Actor.model_validate(m["created_by"]),
            constraints=TaskConstraintsV1.model_validate(m["constraints"]),
            context=m["context"] or {},
            event_seq=m["event_seq"],
            call_id=m["call_id"],
            root_call_id=m["root_call_id"],
            budget_usd=m["budget_usd"],
            conversation_id=m["conversation_id"],
            parent_task_id=m["parent_task_id"],
            paused_from=_TASK_STATUS[m["paused_from"]] if m["paused_from"] else None,
            plan_version=version,
            plan=plan,
            plan_why=m["why"],
            replan_count=m["replan_count"],
            terminal_reason=TerminalReason(m["terminal_reason"]) if m["terminal_reason"] else None,
            error=ErrorV1.model_validate(m["error"]) if m["error"] else None,
            result=m["result"],
            summary=m["summary"],
            fast_path=m["fast_path"],
            finished_at=m["finished_at"],
            version=m["version"],
            has_queued=m["has_queued"],
        )
        for item in m["steps"] or []:
            step = _step_of(item)
            state.steps[step.step_id] = step
        for view in m["checkpoints"] or []:
            checkpoint = CheckpointV1.model_validate(view)
            state.checkpoints[checkpoint.checkpoint_id] = CheckpointState(checkpoint)
        return state

    # ================================================================== apply
    async def apply(self, tx: Tx, cycle: Cycle, *, recovery_after_s: float) -> bool:
        """Write what `cycle` changed, append its events, write its messages; False (and
        nothing written) if the task moved on since the cycle's state was read."""
        state = cycle.state
        if not cycle.changed and not tx.staged:
            return True
        for job in cycle.dispatches:
            stamp, message = messages.step_message(
                state, job, self.pool_of(job.agent), task_version=state.version + 1
            )
            step = state.steps[job.step_id]
            step.call_id, step.parent_call_id = stamp.call_id, stamp.parent_call_id
            step.root_call_id = stamp.root_call_id
            tx.publish(message)
        for job in cycle.undos:
            tx.publish(messages.undo_message(state, job, self.pool_of(job.agent)))
        event_rows = []
        for offset, new in enumerate(cycle.events, start=1):
            event = messages.event_model(state, state.event_seq + offset, new)
            message = messages.event_message(event)
            tx.publish(message)
            event_rows.append(
                f'{{"seq":{event.seq},"kind":"{event.kind.value}",'
                f'"occurred_at":"{event.occurred_at.isoformat()}",'
                f'"event":{messages.payload_json(message)}}}'
            )
        if cycle.advance is not None:
            tx.publish(messages.advance_message(state, cycle.advance))

        ids = list(state.steps)
        document = None
        if cycle.new_plan:
            assert state.plan is not None
            document = state.plan.model_dump_json()
            written = ids
        else:
            written = sorted(cycle.dirty_steps)
        step_rows = [_step_row(state.steps[i], ids.index(i)) for i in written]
        new_cps, changed_cps = _checkpoint_rows(cycle)
        finished, active_after, due = _timer(cycle, recovery_after_s)
        outgoing = tx.take_staged()
        row = await tx.write(
            _WRITE,
            state.task_id,
            state.task_id,
            state.plan_version,
            state.org_id,
            document,
            state.plan_why,
            _dumps(step_rows),
            cycle.new_plan,
            "[" + ",".join(event_rows) + "]",
            _dumps(new_cps),
            _dumps(changed_cps),
            state.status.value,
            state.paused_from.value if state.paused_from else None,
            state.replan_count,
            state.terminal_reason.value if state.terminal_reason else None,
            _json_or_none(_error_json(state.error)),
            _json_or_none(state.result),
            state.summary,
            state.fast_path,
            state.finished_at,
            state.event_seq + len(event_rows),
            state.budget_usd,
            *outbox_params(tx.batch, outgoing),
            tx.take_marks(),
            state.version,
            _dumps([_effect_row(e, r) for e, r in tx.effects]),
            finished,
            active_after,
            due,
            LEASE_S,
        )
        if not row["applied"]:
            tx.forget_writes()
            return False
        tx.written_as(row["ids"], outgoing)
        tx.effects.clear()
        state.event_seq += len(event_rows)
        state.version += 1
        if cycle.new_plan:
            assert state.plan is not None
            self.plans.put(state.task_id, state.plan_version, state.plan)
        return True

    async def reschedule(self, conn: Conn, state: TaskState, *, after_s: float) -> None:
        """When the timer sweep should look at the task next: the next checkpoint expiry or
        deadline, or the recovery interval, whichever comes first."""
        if state.status in TERMINAL:
            return
        due = [datetime.now(UTC) + timedelta(seconds=after_s)]
        due += [c.view.expires_at for c in state.pending_checkpoints()]
        if state.constraints.deadline is not None:
            due.append(state.constraints.deadline)
        await conn.execute(_TIMER_SET, state.task_id, min(due))


def _timer(cycle: Cycle, after_s: float) -> tuple[bool, float | None, datetime | None]:
    """How the cycle moves the task's timer: finished; active again (due after `after_s`);
    due no later than a new checkpoint's expiry or the deadline."""
    state = cycle.state
    kinds = {e.kind.value for e in cycle.events}
    if state.status in TERMINAL:
        return any(e.status in TERMINAL for e in cycle.events), None, None
    active = after_s if "retried" in kinds else None
    due = [
        state.checkpoints[i].view.expires_at
        for i in cycle.new_checkpoints
        if state.checkpoints[i].pending
    ]
    if state.constraints.deadline is not None and kinds & {"task_created", "retried"}:
        due.append(state.constraints.deadline)
    return False, active, min(due) if due else None


def _effect_row(effect: Effect, result: Any) -> dict[str, Any]:
    return {
        "key": effect.key,
        "step_id": effect.step_id,
        "tool": effect.tool,
        "call_id": effect.call_id,
        "parent_call_id": effect.parent_call_id,
        "root_call_id": effect.root_call_id,
        "result": result,
    }


def _checkpoint_rows(cycle: Cycle) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    state = cycle.state
    new = [
        {
            "id": v.checkpoint_id,
            "step_id": v.step_id,
            "plan_version": v.plan_version,
            "status": v.status.value,
            "view": v.model_dump(mode="json"),
            "expires_at": v.expires_at.isoformat(),
            "resolved_at": v.resolved_at.isoformat() if v.resolved_at else None,
        }
        for v in (state.checkpoints[i].view for i in sorted(cycle.new_checkpoints))
    ]
    changed = [
        {
            "id": v.checkpoint_id,
            "status": v.status.value,
            "view": v.model_dump(mode="json"),
            "resolved_at": v.resolved_at.isoformat() if v.resolved_at else None,
        }
        for v in (state.checkpoints[i].view for i in sorted(cycle.dirty_checkpoints))
    ]
    return new, changed


def _step_of(item: list[Any]) -> StepState:
    (
        step_id,
        agent,
        status,
        attempts,
        output,
        error,
        tolerated,
        cleared,
        call_id,
        parent_call_id,
        root_call_id,
        cost,
        started_at,
        finished_at,
    ) = item
    return StepState(
        step_id=step_id,
        agent=agent,
        status=_STEP_STATUS[status],
        attempts=attempts,
        output=output,
        error=ErrorV1.model_validate(error) if error else None,
        tolerated=tolerated,
        cleared=cleared,
        call_id=call_id,
        parent_call_id=parent_call_id,
        root_call_id=root_call_id,
        cost_usd=Decimal(str(cost)),
        started_at=_time(started_at),
        finished_at=_time(finished_at),
    )


def _step_row(step: StepState, position: int) -> dict[str, Any]:
    return {
        "step_id": step.step_id,
        "position": position,
        "agent": step.agent,
        "status": step.status.value,
        "attempts": step.attempts,
        "output": step.output,
        "error": _error_json(step.error),
        "tolerated": step.tolerated,
        "cleared": step.cleared,
        "call_id": step.call_id,
        "parent_call_id": step.parent_call_id,
        "root_call_id": step.root_call_id,
        "cost_usd": str(step.cost_usd),
        "started_at": step.started_at.isoformat() if step.started_at else None,
        "finished_at": step.finished_at.isoformat() if step.finished_at else None,
    }
