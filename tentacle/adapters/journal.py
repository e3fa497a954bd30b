"""The side-effect journal: every effect a step has on the world, by idempotency key.

An agent about to act writes `started` under the attempt's key (in its own committed
transaction), acts, then writes `done` with the result. A redelivered attempt finds the entry:
`done` returns the recorded result without acting again; `started` means the effect may have
happened, so it is not repeated (the step fails with `tentacle.outcome_unknown`) unless the
operation is safe to repeat. Effects that are messages (an email through Mimic) are staged in
the outbox with the step's result instead, so they go out exactly when the result is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from tentacle.adapters.pg import TaskDb
from tentacle.service.ports import Effect

_CURRENT: Final = """
    SELECT 1 FROM steps s JOIN tasks t ON t.id = s.task_id
     WHERE s.task_id = $1 AND s.plan_version = $2 AND s.step_id = $3
       AND s.status = 'running' AND s.attempts = $4 AND t.plan_version = $2
"""
_COLUMNS: Final = "org_id, key, task_id, step_id, tool, call_id, parent_call_id, root_call_id"
_BEGIN: Final = f"""
    INSERT INTO side_effects ({_COLUMNS}, status)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'started')
    ON CONFLICT (org_id, key) DO NOTHING
    RETURNING key
"""  # noqa: S608 - built from the column list above, not from input
_FIND: Final = "SELECT status, result FROM side_effects WHERE org_id = $1 AND key = $2"
_FINISH: Final = """
    UPDATE side_effects SET status = $3, result = $4::jsonb, completed_at = now()
     WHERE org_id = $1 AND key = $2
"""
_FORGET: Final = "DELETE FROM side_effects WHERE org_id = $1 AND key = $2 AND status = 'started'"


@dataclass(frozen=True, slots=True)
class Entry:
    status: str
    result: Any


class StaleAttempt(Exception):
    """The step attempt is no longer the current one (cancelled, replanned): do not act."""


def _params(effect: Effect) -> tuple[Any, ...]:
    return (
        effect.org_id,
        effect.key,
        effect.task_id,
        effect.step_id,
        effect.tool,
        effect.call_id,
        effect.parent_call_id,
        effect.root_call_id,
    )


class Journal:
    def __init__(self, db: TaskDb) -> None:
        self.db = db

    async def begin(self, effect: Effect) -> Entry | None:
        """None: go ahead (the entry is now `started`). Else what an earlier delivery left."""
        async with self.db.transaction(org_id=effect.org_id) as tx:
            if not effect.undo:  # an undo is asked for once the task has stopped
                current = await tx.conn.fetchval(
                    _CURRENT, effect.task_id, effect.plan_version, effect.step_id, effect.attempt
                )
                if current is None:
                    raise StaleAttempt(effect.key)
            if await tx.conn.fetchrow(_BEGIN, *_params(effect)) is not None:
                return None
            row = await tx.conn.fetchrow(_FIND, effect.org_id, effect.key)
        assert row is not None
        return Entry(row["status"], row["result"])

    async def finish(self, effect: Effect, status: str, result: Any) -> None:
        async with self.db.transaction(org_id=effect.org_id) as tx:
            await tx.conn.execute(_FINISH, effect.org_id, effect.key, status, result)

    async def forget(self, effect: Effect) -> None:
        """The effect certainly did not happen (nothing was sent): a retry may act."""
        async with self.db.transaction(org_id=effect.org_id) as tx:
            await tx.conn.execute(_FORGET, effect.org_id, effect.key)
