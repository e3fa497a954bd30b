"""Background work across organisations: timers (checkpoint expiry, deadlines, recovery of
lost work) and retention of finished tasks' bulky data.

Both loops read `task_timers`, which holds ids and times only, in platform scope; the work on a
task itself always happens in a transaction scoped to the task's organisation. Several replicas
may run them: rows are claimed with SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from shared.logging import get_logger
from tentacle.adapters.messages import timer_message
from tentacle.service.deps import Deps

log = get_logger(__name__)

BATCH: Final = 200

_DUE: Final = """
    WITH due AS (
        SELECT task_id FROM task_timers
         WHERE finished_at IS NULL AND due_at <= now()
         ORDER BY due_at LIMIT $1
           FOR UPDATE SKIP LOCKED
    )
    UPDATE task_timers AS t SET due_at = now() + make_interval(secs => $2)
      FROM due WHERE t.task_id = due.task_id
    RETURNING t.task_id, t.org_id
"""
_FINISHED: Final = """
    SELECT task_id, org_id FROM task_timers
     WHERE pruned_at IS NULL AND finished_at < now() - make_interval(secs => $1)
     ORDER BY finished_at LIMIT $2
"""
_PRUNE: Final = (
    "UPDATE steps SET output = NULL, output_pruned = true"
    " WHERE task_id = $1 AND output IS NOT NULL",
    "UPDATE side_effects SET result = NULL WHERE task_id = $1 AND result IS NOT NULL",
    "DELETE FROM plans WHERE task_id = $1"
    " AND version < (SELECT plan_version FROM tasks WHERE id = $1)",
    "UPDATE checkpoints SET view = jsonb_set(view, '{preview}', '{}'::jsonb)"
    " WHERE task_id = $1 AND status <> 'pending'",
    "UPDATE task_timers SET pruned_at = now() WHERE task_id = $1",
)


async def sweep_timers(deps: Deps) -> int:
    """Stage an advance for every task whose timer is due; how many."""
    async with deps.db.transaction() as tx:
        rows = await tx.conn.fetch(_DUE, BATCH, deps.settings.recovery_after_seconds)
        for row in rows:
            tx.publish(timer_message(row["task_id"], row["org_id"]))
    return len(rows)


async def prune_finished(deps: Deps) -> int:
    """Drop step outputs, journal results, old plan versions and checkpoint previews of tasks
    finished longer ago than the retention period; the task, its result and its lifecycle
    log stay. How many tasks were pruned."""
    age = deps.settings.retention_hours * 3600
    async with deps.db.transaction() as tx:
        rows = await tx.conn.fetch(_FINISHED, age, BATCH)
    for row in rows:
        async with deps.db.transaction(org_id=row["org_id"]) as tx:
            for statement in _PRUNE:
                await tx.conn.execute(statement, row["task_id"])
    return len(rows)


async def _every(period: float, work: str, run: Callable[[], Awaitable[int]]) -> None:
    while True:
        try:
            done = await run()
        except asyncio.CancelledError:
            raise
        except Exception:  # the next round tries again; the database may be back by then
            log.warning("maintenance.failed", work=work, exc_info=True)
            done = 0
        await asyncio.sleep(0 if done >= BATCH else period)


async def watch_timers(deps: Deps) -> None:
    await _every(deps.settings.timer_interval_seconds, "timers", lambda: sweep_timers(deps))


async def retain(deps: Deps) -> None:
    await _every(
        deps.settings.retention_interval_seconds, "retention", lambda: prune_finished(deps)
    )
