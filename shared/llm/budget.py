"""Budgets are reserved before a call and settled after it.

The gateway asks a `BudgetLedger` (the calling service's own storage) to reserve the most a call
could cost; the ledger refuses with `BudgetExceeded` if any scope (the agent, the task, the
organisation's day) would go over. After the call the reservation is settled at the real cost,
or released if no call was made. Reserving first is what makes concurrent calls unable to
overspend together.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BudgetScope:
    org_id: str
    task_id: str | None = None
    agent: str | None = None
    call_id: str | None = None
    """The model call being reserved for (set by the gateway), so spend can be attributed to
    its node of the execution tree."""


class BudgetLedger(Protocol):
    async def reserve(self, scope: BudgetScope, amount: Decimal) -> str:
        """Hold `amount` against every limit of `scope`; returns the reservation's id."""

    async def settle(self, reservation_id: str, amount: Decimal) -> None:
        """Replace the hold by what the call really cost."""

    async def release(self, reservation_id: str) -> None:
        """Drop the hold: the call never happened."""
