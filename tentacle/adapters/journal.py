"""The side-effect journal: every effect a step has on the world, by idempotency key.

An agent about to act writes `started` under the attempt's key (in its own committed
transaction), acts, then writes `done` with the result. A redelivered attempt finds the entry:
`done` returns the recorded result without acting again; `started` means the effect may have
happened, so it is not repeated (the step fails with `tentacle.outcome_unknown`) unless the
operation is safe to repeat. Effects that are messages (an email through Mimic) are staged in
the outbox with the step's result instead, so they go out exactly when the result is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.database import Database
from tentacle.service.ports import Effect

_CURRENT: Final = text(
    """
    SELECT 1 FROM steps s JOIN tasks t ON t.id = s.task_id
     WHERE s.task_id = :task_id AND s.plan_version = :plan_version AND s.step_id = :step_id
       AND s.status = 'running' AND s.attempts = :attempt AND t.plan_version = :plan_version
    """
)
_BEGIN: Final = text(
    """
    INSERT INTO side_effects (org_id, key, task_id, step_id, tool, status, call_id,
                              parent_call_id, root_call_id)
    VALUES (:org_id, :key, :task_id, :step_id, :tool, 'started', :call_id, :parent_call_id,
            :root_call_id)
    ON CONFLICT (org_id, key) DO NOTHING
    RETURNING key
    """
)
_FIND: Final = text("SELECT status, result FROM side_effects WHERE org_id = :org_id AND key = :key")
_FINISH: Final = text(
    """
    UPDATE side_effects SET status = :status, result = CAST(:result AS jsonb), completed_at = now()
     WHERE org_id = :org_id AND key = :key
    """
)
_FORGET: Final = text(
    "DELETE FROM side_effects WHERE org_id = :org_id AND key = :key AND status = 'started'"
)
_RECORD: Final = text(
    """
    INSERT INTO side_effects (org_id, key, task_id, step_id, tool, status, result, call_id,
                              parent_call_id, root_call_id, completed_at)
    VALUES (:org_id, :key, :task_id, :step_id, :tool, 'done', CAST(:result AS jsonb), :call_id,
            :parent_call_id, :root_call_id, now())
    ON CONFLICT (org_id, key) DO NOTHING
    """
)


@dataclass(frozen=True, slots=True)
class Entry:
    status: str
    result: Any


class StaleAttempt(Exception):
    """The step attempt is no longer the current one (cancelled, replanned): do not act."""


class Journal:
    def __init__(self, db: Callable[[], Database]) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        return self._db()

    async def begin(self, effect: Effect) -> Entry | None:
        """None: go ahead (the entry is now `started`). Else what an earlier delivery left."""
        async with self.db.transaction(org_id=effect.org_id) as uow:
            current = await uow.session.scalar(
                _CURRENT,
                {
                    "task_id": effect.task_id,
                    "plan_version": effect.plan_version,
                    "step_id": effect.step_id,
                    "attempt": effect.attempt,
                },
            )
            if current is None:
                raise StaleAttempt(effect.key)
            if (await uow.session.execute(_BEGIN, effect.params())).first() is not None:
                return None
            row = (
                await uow.session.execute(_FIND, {"org_id": effect.org_id, "key": effect.key})
            ).first()
        assert row is not None
        return Entry(row.status, row.result)

    async def finish(self, effect: Effect, status: str, result: Any) -> None:
        async with self.db.transaction(org_id=effect.org_id) as uow:
            await uow.session.execute(
                _FINISH,
                {
                    "org_id": effect.org_id,
                    "key": effect.key,
                    "status": status,
                    "result": json.dumps(result, default=str),
                },
            )

    async def forget(self, effect: Effect) -> None:
        """The effect certainly did not happen (nothing was sent): a retry may act."""
        async with self.db.transaction(org_id=effect.org_id) as uow:
            await uow.session.execute(_FORGET, {"org_id": effect.org_id, "key": effect.key})


async def record(session: AsyncSession, effect: Effect, result: Any) -> None:
    """Journal an effect staged in the caller's transaction (it happens iff that commits)."""
    await session.execute(_RECORD, {**effect.params(), "result": json.dumps(result, default=str)})
