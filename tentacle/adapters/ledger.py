"""The budget ledger (`shared.llm.BudgetLedger`) in tentacle's database.

A reservation holds the most a model call could cost against every limit of its scope at once:
the agent within the task, the task, and the organisation's day. Each limit is a row in
`budget_usage` updated by one conditional upsert (`held + spent + amount <= limit`), so two
concurrent reservations serialise on the row and cannot both pass when only one fits; a refusal
anywhere rolls back the holds already taken. Settling replaces the hold by the real cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Final

from contracts.ids import new_id
from shared.context import current_call
from shared.llm.budget import BudgetScope
from shared.llm.errors import BudgetExceeded
from tentacle.adapters.pg import Conn, TaskDb

_HOLD: Final = """
    INSERT INTO budget_usage (org_id, scope, key, held)
    SELECT $1, $2, $3, $4::numeric WHERE $4::numeric <= $5::numeric
    ON CONFLICT (org_id, scope, key) DO UPDATE
       SET held = budget_usage.held + excluded.held, updated_at = now()
     WHERE budget_usage.held + budget_usage.spent + excluded.held <= $5::numeric
    RETURNING held
"""
_USED: Final = """
    SELECT held + spent FROM budget_usage WHERE org_id = $1 AND scope = $2 AND key = $3
"""
_RESERVE: Final = """
    INSERT INTO budget_reservations (id, org_id, task_id, agent, day, held, status, call_id,
                                     parent_call_id, root_call_id)
    VALUES ($1, $2, $3, $4, $5, $6, 'held', $7, $8, $9)
"""
_CLOSE: Final = """
    UPDATE budget_reservations SET status = $2, spent = $3, settled_at = now()
     WHERE id = $1 AND status = 'held'
    RETURNING task_id, agent, day, held
"""
_MOVE: Final = """
    UPDATE budget_usage SET held = greatest(held - $4, 0), spent = spent + $5,
           updated_at = now()
     WHERE org_id = $1 AND scope = $2 AND key = $3
"""

AgentLimit = Callable[[Conn, str], Awaitable[Decimal | None]]
"""The per-task limit of an agent (None: only the task's and the day's limits apply)."""


@dataclass(frozen=True, slots=True)
class _Limit:
    scope: str
    key: str
    limit: Decimal


def _scopes(
    task_id: str | None,
    agent: str | None,
    day: date,
    *,
    task: Decimal | None = None,
    agent_limit: Decimal | None = None,
    daily: Decimal = Decimal(0),
) -> list[_Limit]:
    limits: list[_Limit] = []
    if task_id is not None and agent is not None and agent_limit is not None:
        limits.append(_Limit("agent", f"{task_id}:{agent}", agent_limit))
    if task_id is not None and task is not None:
        limits.append(_Limit("task", task_id, task))
    limits.append(_Limit("org_day", day.isoformat(), daily))
    return limits


class TaskLedger:
    def __init__(self, db: TaskDb, *, daily_limit_usd: Decimal, agent_limit: AgentLimit) -> None:
        self.db = db
        self.daily_limit_usd = daily_limit_usd
        self._agent_limit = agent_limit

    async def reserve(self, scope: BudgetScope, amount: Decimal) -> str:
        reservation = new_id()
        day = datetime.now(UTC).date()
        call = current_call()
        async with self.db.transaction(org_id=scope.org_id) as tx:
            conn = tx.conn
            task_limit: Decimal | None = None
            if scope.task_id is not None:
                task_limit = await conn.fetchval(
                    "SELECT budget_usd FROM tasks WHERE id = $1", scope.task_id
                )
            agent_limit = (
                await self._agent_limit(conn, scope.agent) if scope.agent is not None else None
            )
            limits = _scopes(
                scope.task_id,
                scope.agent,
                day,
                task=task_limit,
                agent_limit=agent_limit,
                daily=self.daily_limit_usd,
            )
            for limit in limits:
                held = await conn.fetchrow(
                    _HOLD, scope.org_id, limit.scope, limit.key, amount, limit.limit
                )
                if held is None:
                    used = await conn.fetchval(_USED, scope.org_id, limit.scope, limit.key)
                    raise BudgetExceeded(
                        limit.scope, limit=limit.limit, needed=(used or Decimal(0)) + amount
                    )
            await conn.execute(
                _RESERVE,
                reservation,
                scope.org_id,
                scope.task_id,
                scope.agent,
                day,
                amount,
                scope.call_id,
                call.call_id if call is not None else None,
                call.root_call_id if call is not None else None,
            )
        return f"{scope.org_id}:{reservation}"

    async def settle(self, reservation_id: str, amount: Decimal) -> None:
        await self._close(reservation_id, "settled", amount)

    async def release(self, reservation_id: str) -> None:
        await self._close(reservation_id, "released", Decimal(0))

    async def _close(self, reservation_id: str, status: str, spent: Decimal) -> None:
        org_id, _, rid = reservation_id.partition(":")
        async with self.db.transaction(org_id=org_id) as tx:
            row = await tx.conn.fetchrow(_CLOSE, rid, status, spent)
            if row is None:
                return  # closed already (a retried settle)
            # Every scope the hold may have been taken in (a missing usage row updates nothing).
            scopes = _scopes(
                row["task_id"], row["agent"], row["day"], task=Decimal(0), agent_limit=Decimal(0)
            )
            for limit in scopes:
                await tx.conn.execute(_MOVE, org_id, limit.scope, limit.key, row["held"], spent)
