"""Reading and writing schedules, their runs and timers (asyncpg, in a `TaskDb` unit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from contracts.envelope import Actor
from contracts.tentacle.schedules import MissedPolicy, ScheduleV1
from tentacle.adapters.pg import Conn

_COLUMNS: Final = """
    org_id, id, name, goal, cron, interval_seconds, timezone, follows_org_zone, start_at, missed,
    max_catch_up, enabled, next_run_at, last_run_at, run_count, version, created_by, created_at,
    updated_at
"""
_INSERT: Final = f"""
    INSERT INTO schedules (org_id, id, name, goal, cron, interval_seconds, timezone, start_at,
                           missed, max_catch_up, enabled, next_run_at, created_by, created_at,
                           updated_at, follows_org_zone)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $14, $15)
    RETURNING {_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_GET: Final = f"SELECT {_COLUMNS} FROM schedules WHERE id = $1"  # noqa: S608
_GET_FOR_UPDATE: Final = _GET + " FOR UPDATE"
_LIST: Final = f"""
    SELECT {_COLUMNS} FROM schedules WHERE ($1 OR enabled)
     ORDER BY created_at DESC, id DESC LIMIT $2
"""  # noqa: S608 - constant columns, bound values
_SET_ENABLED: Final = f"""
    UPDATE schedules SET enabled = $2, next_run_at = $3, version = version + 1, updated_at = $4
     WHERE id = $1
    RETURNING {_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_UPDATE: Final = f"""
    UPDATE schedules SET name = $2, goal = $3, cron = $4, interval_seconds = $5, timezone = $6,
                         missed = $7, max_catch_up = $8, next_run_at = $9,
                         version = version + 1, updated_at = $10, follows_org_zone = $11
     WHERE id = $1
    RETURNING {_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_ADVANCE: Final = """
    UPDATE schedules SET next_run_at = $2, last_run_at = coalesce($3, last_run_at),
                         run_count = run_count + $4
     WHERE id = $1
"""
_DELETE: Final = "DELETE FROM schedules WHERE id = $1 RETURNING id"
_TIMER: Final = """
    INSERT INTO schedule_timers (schedule_id, org_id, due_at) VALUES ($1, $2, $3)
    ON CONFLICT (schedule_id) DO UPDATE SET due_at = excluded.due_at
"""
_DROP_TIMER: Final = "DELETE FROM schedule_timers WHERE schedule_id = $1"
_CLAIM: Final = """
    WITH due AS (
        SELECT schedule_id FROM schedule_timers
         WHERE due_at IS NOT NULL AND due_at <= $1
         ORDER BY due_at LIMIT $2
           FOR UPDATE SKIP LOCKED
    )
    UPDATE schedule_timers AS t SET due_at = $1 + make_interval(secs => $3)
      FROM due WHERE t.schedule_id = due.schedule_id
    RETURNING t.schedule_id, t.org_id
"""
_RUN: Final = """
    INSERT INTO schedule_runs (org_id, schedule_id, occurrence_at, task_id, created_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT DO NOTHING
    RETURNING occurrence_at
"""
_RUNS: Final = """
    SELECT occurrence_at FROM schedule_runs WHERE schedule_id = $1 ORDER BY occurrence_at
"""


def _view(row: Any) -> ScheduleV1:
    return ScheduleV1(
        schedule_id=row["id"],
        org_id=row["org_id"],
        name=row["name"],
        goal=row["goal"],
        cron=row["cron"],
        interval_seconds=row["interval_seconds"],
        timezone=row["timezone"],
        follows_org_zone=row["follows_org_zone"],
        start_at=row["start_at"],
        missed=MissedPolicy(row["missed"]),
        max_catch_up=row["max_catch_up"],
        enabled=row["enabled"],
        next_run_at=row["next_run_at"],
        last_run_at=row["last_run_at"],
        run_count=row["run_count"],
        version=row["version"],
        created_by=Actor.model_validate(row["created_by"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def insert_schedule(conn: Conn, s: ScheduleV1) -> ScheduleV1:
    row = await conn.fetchrow(
        _INSERT,
        s.org_id,
        s.schedule_id,
        s.name,
        s.goal,
        s.cron,
        s.interval_seconds,
        s.timezone,
        s.start_at,
        s.missed.value,
        s.max_catch_up,
        s.enabled,
        s.next_run_at,
        s.created_by.model_dump(mode="json"),
        s.created_at,
        s.follows_org_zone,
    )
    await set_timer(conn, s.schedule_id, s.org_id, s.next_run_at)
    return _view(row)


async def get_schedule(
    conn: Conn, schedule_id: str, *, for_update: bool = False
) -> ScheduleV1 | None:
    row = await conn.fetchrow(_GET_FOR_UPDATE if for_update else _GET, schedule_id)
    return _view(row) if row is not None else None


async def list_schedules(conn: Conn, *, include_disabled: bool, limit: int) -> list[ScheduleV1]:
    return [_view(r) for r in await conn.fetch(_LIST, include_disabled, limit)]


async def set_enabled(
    conn: Conn, s: ScheduleV1, *, enabled: bool, next_run_at: datetime | None, at: datetime
) -> ScheduleV1:
    row = await conn.fetchrow(_SET_ENABLED, s.schedule_id, enabled, next_run_at, at)
    await set_timer(conn, s.schedule_id, s.org_id, next_run_at)
    return _view(row)


async def save_schedule(conn: Conn, s: ScheduleV1, *, at: datetime) -> ScheduleV1:
    row = await conn.fetchrow(
        _UPDATE,
        s.schedule_id,
        s.name,
        s.goal,
        s.cron,
        s.interval_seconds,
        s.timezone,
        s.missed.value,
        s.max_catch_up,
        s.next_run_at,
        at,
        s.follows_org_zone,
    )
    await set_timer(conn, s.schedule_id, s.org_id, s.next_run_at)
    return _view(row)


_ZONE: Final = "SELECT timezone FROM org_zones WHERE org_id = $1"
_KEEP_ZONE: Final = """
    INSERT INTO org_zones (org_id, timezone, version, updated_at) VALUES ($1, $2, $3, now())
    ON CONFLICT (org_id) DO UPDATE
       SET timezone = excluded.timezone, version = excluded.version, updated_at = now()
     WHERE org_zones.version < excluded.version
    RETURNING timezone
"""
_FOLLOWERS: Final = f"""
    SELECT {_COLUMNS} FROM schedules WHERE org_id = $1 AND follows_org_zone AND timezone <> $2
     ORDER BY id FOR UPDATE
"""  # noqa: S608 - constant columns, bound values

DEFAULT_ZONE: Final = "UTC"
"""An org whose settings never changed is in inkpass's default zone."""


async def org_zone(conn: Conn, org_id: str) -> str:
    found = await conn.fetchval(_ZONE, org_id)
    return str(found) if found is not None else DEFAULT_ZONE


async def keep_org_zone(conn: Conn, org_id: str, timezone: str, version: int) -> bool:
    """Record the org's zone at `version`; False when a later or equal version is known."""
    return await conn.fetchval(_KEEP_ZONE, org_id, timezone, version) is not None


async def zone_followers(conn: Conn, org_id: str, timezone: str) -> list[ScheduleV1]:
    """The org's schedules that follow its zone and are not in `timezone` yet, locked."""
    return [_view(r) for r in await conn.fetch(_FOLLOWERS, org_id, timezone)]


async def delete_schedule(conn: Conn, schedule_id: str) -> bool:
    deleted = await conn.fetchval(_DELETE, schedule_id) is not None
    if deleted:
        await conn.execute(_DROP_TIMER, schedule_id)
    return deleted


async def set_timer(conn: Conn, schedule_id: str, org_id: str, due_at: datetime | None) -> None:
    await conn.execute(_TIMER, schedule_id, org_id, due_at)


async def drop_timer(conn: Conn, schedule_id: str) -> None:
    await conn.execute(_DROP_TIMER, schedule_id)


async def claim_due(conn: Conn, now: datetime, *, batch: int, lease_s: float) -> list[Any]:
    """Due timers (platform scope), each pushed `lease_s` ahead so another replica's sweep
    leaves it alone while this one runs it."""
    return list(await conn.fetch(_CLAIM, now, batch, lease_s))


async def record_run(
    conn: Conn, s: ScheduleV1, occurrence: datetime, task_id: str, *, at: datetime
) -> bool:
    """Whether this occurrence runs now (False: it ran before, here or on another replica)."""
    inserted = await conn.fetchval(_RUN, s.org_id, s.schedule_id, occurrence, task_id, at)
    return inserted is not None


async def advance(
    conn: Conn, s: ScheduleV1, *, next_run_at: datetime | None, ran_at: datetime | None, runs: int
) -> None:
    await conn.execute(_ADVANCE, s.schedule_id, next_run_at, ran_at, runs)
    await set_timer(conn, s.schedule_id, s.org_id, next_run_at)


async def runs_of(conn: Conn, schedule_id: str) -> list[datetime]:
    return [r["occurrence_at"] for r in await conn.fetch(_RUNS, schedule_id)]
