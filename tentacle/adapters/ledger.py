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

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.ids import new_id
from shared.context import current_call
from shared.db.database import Database
from shared.llm.budget import BudgetScope
from shared.llm.errors import BudgetExceeded

_HOLD: Final = text(
    """
    INSERT INTO budget_usage (org_id, scope, key, held)
    SELECT :org_id, :scope, :key, CAST(:amount AS numeric)
     WHERE CAST(:amount AS numeric) <= CAST(:limit AS numeric)
    ON CONFLICT (org_id, scope, key) DO UPDATE
       SET held = budget_usage.held + excluded.held, updated_at = now()
     WHERE budget_usage.held + budget_usage.spent + excluded.held <= CAST(:limit AS numeric)
    RETURNING held
    """
)
_USED: Final = text(
    "SELECT held + spent FROM budget_usage WHERE org_id = :org_id AND scope = :scope AND key = :key"
)
_RESERVE: Final = text(
    """
    INSERT INTO budget_reservations (id, org_id, task_id, agent, day, held, status, call_id,
                                     parent_call_id, root_call_id)
    VALUES (:id, :org_id, :task_id, :agent, :day, :held, 'held', :call_id, :parent_call_id,
            :root_call_id)
    """
)
_CLOSE: Final = text(
    """
    UPDATE budget_reservations SET status = :status, spent = :spent, settled_at = now()
     WHERE id = :id AND status = 'held'
    RETURNING task_id, agent, day, held
    """
)
_MOVE: Final = text(
    """
    UPDATE budget_usage SET held = greatest(held - :held, 0), spent = spent + :spent,
           updated_at = now()
     WHERE org_id = :org_id AND scope = :scope AND key = :key
    """
)

AgentLimit = Callable[[AsyncSession, str], Awaitable[Decimal | None]]
"""The per-task limit of an agent (None: only the task's and the day's limits apply)."""


@dataclass(frozen=True, slots=True)
class _Limit:
    scope: str
    key: str
    limit: Decimal


def _scopes(
    scope_task: str | None,
    agent: str | None,
    day: date,
    task: Decimal | None,
    agent_limit: Decimal | None,
    daily: Decimal,
) -> list[_Limit]:
    limits: list[_Limit] = []
    if scope_task is not None and agent is not None and agent_limit is not None:
        limits.append(_Limit("agent", f"{scope_task}:{agent}", agent_limit))
    if scope_task is not None and task is not None:
        limits.append(_Limit("task", scope_task, task))
    limits.append(_Limit("org_day", day.isoformat(), daily))
    return limits


class TaskLedger:
    def __init__(
        self,
        db: Callable[[], Database],
        *,
        daily_limit_usd: Decimal,
        agent_limit: AgentLimit,
    ) -> None:
        self._db = db
        self.daily_limit_usd = daily_limit_usd
        self._agent_limit = agent_limit

    async def reserve(self, scope: BudgetScope, amount: Decimal) -> str:
        reservation = new_id()
        day = datetime.now(UTC).date()
        call = current_call()
        async with self._db().transaction(org_id=scope.org_id) as uow:
            session = uow.session
            task_limit: Decimal | None = None
            if scope.task_id is not None:
                task_limit = await session.scalar(
                    text("SELECT budget_usd FROM tasks WHERE id = :id"), {"id": scope.task_id}
                )
            agent_limit = (
                await self._agent_limit(session, scope.agent) if scope.agent is not None else None
            )
            for limit in _scopes(
                scope.task_id, scope.agent, day, task_limit, agent_limit, self.daily_limit_usd
            ):
                params = {
                    "org_id": scope.org_id,
                    "scope": limit.scope,
                    "key": limit.key,
                    "amount": amount,
                    "limit": limit.limit,
                }
                if (await session.execute(_HOLD, params)).first() is None:
                    used = await session.scalar(_USED, params) or Decimal(0)
                    raise BudgetExceeded(limit.scope, limit=limit.limit, needed=used + amount)
            await session.execute(
                _RESERVE,
                {
                    "id": reservation,
                    "org_id": scope.org_id,
                    "task_id": scope.task_id,
                    "agent": scope.agent,
                    "day": day,
                    "held": amount,
                    "call_id": scope.call_id,
                    "parent_call_id": call.call_id if call is not None else None,
                    "root_call_id": call.root_call_id if call is not None else None,
                },
            )
        return f"{scope.org_id}:{reservation}"

    async def settle(self, reservation_id: str, amount: Decimal) -> None:
        await self._close(reservation_id, "settled", amount)

    async def release(self, reservation_id: str) -> None:
        await self._close(reservation_id, "released", Decimal(0))

    async def _close(self, reservation_id: str, status: str, spent: Decimal) -> None:
        org_id, _, rid = reservation_id.partition(":")
        async with self._db().transaction(org_id=org_id) as uow:
            row = (
                await uow.session.execute(_CLOSE, {"id": rid, "status": status, "spent": spent})
            ).first()
            if row is None:
                return  # closed already (a retried settle)
            limits = _scopes(row.task_id, row.agent, row.day, Decimal(0), Decimal(0), Decimal(0))
            for limit in limits:
                await uow.session.execute(
                    _MOVE,
                    {
                        "org_id": org_id,
                        "scope": limit.scope,
                        "key": limit.key,
                        "held": row.held,
                        "spent": spent,
                    },
                )
