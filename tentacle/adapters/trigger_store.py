"""Reading and writing triggers and their fires (asyncpg, inside a unit of work of `TaskDb`).

Every statement runs in a unit scoped to the trigger's organisation: row-level security keeps
another organisation's triggers out of sight whatever the query says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from contracts.envelope import Actor
from contracts.tentacle.triggers import CallbackV1, ResponseType, TriggerSource, TriggerV1
from tentacle.adapters.pg import Conn

_COLUMNS: Final = """
    org_id, id, name, goal, callback, source, integration_id, event_type, event_filter,
    response_type, response_integration_id, response_channel_id, enabled, version, fire_count,
    last_fired_at, created_by, created_at, updated_at
"""

_INSERT: Final = f"""
    INSERT INTO triggers (org_id, id, name, goal, source, integration_id, event_type,
                          event_filter, response_type, response_integration_id,
                          response_channel_id, enabled, created_by, created_at, updated_at,
                          callback)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13::jsonb, $14, $14,
            $15::jsonb)
    RETURNING {_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_GET: Final = f"SELECT {_COLUMNS} FROM triggers WHERE id = $1"  # noqa: S608
_GET_FOR_UPDATE: Final = _GET + " FOR UPDATE"
_LIST: Final = f"""
    SELECT {_COLUMNS} FROM triggers
     WHERE ($1::text IS NULL OR source = $1) AND ($2 OR enabled)
     ORDER BY created_at DESC, id DESC LIMIT $3
"""  # noqa: S608 - constant columns, bound values
_UPDATE: Final = f"""
    UPDATE triggers SET name = $2, goal = $3, event_type = $4, event_filter = $5::jsonb,
                        response_type = $6, response_integration_id = $7,
                        response_channel_id = $8, enabled = $9, version = version + 1,
                        updated_at = $10, callback = $11::jsonb
     WHERE id = $1
    RETURNING {_COLUMNS}
"""  # noqa: S608 - constant columns, bound values
_DELETE: Final = "DELETE FROM triggers WHERE id = $1 RETURNING id"
_CANDIDATES: Final = f"""
    SELECT {_COLUMNS} FROM triggers
     WHERE enabled AND source = $1
       AND ($2::text IS NULL OR integration_id IS NULL OR integration_id = $2)
       AND ($3::text IS NULL OR event_type IS NULL OR event_type = $3)
       AND created_at <= $4
     ORDER BY id
"""  # noqa: S608 - constant columns, bound values
_FIRE: Final = """
    INSERT INTO trigger_fires (org_id, trigger_id, event_id, task_id, response_type,
                               response_integration_id, response_channel_id, reply_sealed,
                               fired_at, root_call_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT DO NOTHING
    RETURNING trigger_id
"""
_COUNT_FIRE: Final = """
    UPDATE triggers SET fire_count = fire_count + 1, last_fired_at = $2 WHERE id = $1
"""
_FIRE_OF_TASK: Final = """
    SELECT trigger_id, event_id, response_type, response_integration_id, response_channel_id,
           reply_sealed, responded_at
      FROM trigger_fires WHERE task_id = $1
     FOR UPDATE
"""
_FIRED_TREE: Final = "SELECT EXISTS (SELECT 1 FROM trigger_fires WHERE root_call_id = $1)"
_IS_FIRED_TASK: Final = "SELECT EXISTS (SELECT 1 FROM trigger_fires WHERE task_id = $1)"
_ANSWERED: Final = """
    UPDATE trigger_fires SET responded_at = $3 WHERE trigger_id = $1 AND event_id = $2
"""


def _callback(trigger: TriggerV1) -> Any:
    return trigger.callback.model_dump(mode="json") if trigger.callback is not None else None


def _view(row: Any) -> TriggerV1:
    return TriggerV1(
        trigger_id=row["id"],
        org_id=row["org_id"],
        name=row["name"],
        goal=row["goal"],
        callback=CallbackV1.model_validate(row["callback"]) if row["callback"] else None,
        trigger_source=TriggerSource(row["source"]),
        integration_id=row["integration_id"],
        event_type=row["event_type"],
        event_filter=row["event_filter"],
        response_type=ResponseType(row["response_type"]),
        response_integration_id=row["response_integration_id"],
        response_channel_id=row["response_channel_id"],
        enabled=row["enabled"],
        version=row["version"],
        fire_count=row["fire_count"],
        last_fired_at=row["last_fired_at"],
        created_by=Actor.model_validate(row["created_by"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def insert_trigger(conn: Conn, trigger: TriggerV1) -> TriggerV1:
    row = await conn.fetchrow(
        _INSERT,
        trigger.org_id,
        trigger.trigger_id,
        trigger.name,
        trigger.goal,
        trigger.trigger_source.value,
        trigger.integration_id,
        trigger.event_type,
        trigger.event_filter,
        trigger.response_type.value,
        trigger.response_integration_id,
        trigger.response_channel_id,
        trigger.enabled,
        trigger.created_by.model_dump(mode="json"),
        trigger.created_at,
        _callback(trigger),
    )
    return _view(row)


async def get_trigger(conn: Conn, trigger_id: str, *, for_update: bool = False) -> TriggerV1 | None:
    row = await conn.fetchrow(_GET_FOR_UPDATE if for_update else _GET, trigger_id)
    return _view(row) if row is not None else None


async def list_triggers(
    conn: Conn, source: TriggerSource | None, *, include_disabled: bool, limit: int
) -> list[TriggerV1]:
    rows = await conn.fetch(
        _LIST, source.value if source is not None else None, include_disabled, limit
    )
    return [_view(r) for r in rows]


async def save_trigger(conn: Conn, trigger: TriggerV1, *, at: datetime) -> TriggerV1:
    row = await conn.fetchrow(
        _UPDATE,
        trigger.trigger_id,
        trigger.name,
        trigger.goal,
        trigger.event_type,
        trigger.event_filter,
        trigger.response_type.value,
        trigger.response_integration_id,
        trigger.response_channel_id,
        trigger.enabled,
        at,
        _callback(trigger),
    )
    return _view(row)


async def delete_trigger(conn: Conn, trigger_id: str) -> bool:
    return await conn.fetchval(_DELETE, trigger_id) is not None


async def candidates(
    conn: Conn,
    source: TriggerSource,
    *,
    integration_id: str | None,
    event_type: str | None,
    created_before: datetime,
) -> list[TriggerV1]:
    """Enabled triggers of the unit's organisation that may match an event (filters aside)."""
    rows = await conn.fetch(_CANDIDATES, source.value, integration_id, event_type, created_before)
    return [_view(r) for r in rows]


async def record_fire(
    conn: Conn,
    trigger: TriggerV1,
    *,
    event_id: str,
    task_id: str | None,
    response_integration_id: str | None,
    response_channel_id: str | None,
    reply_sealed: bytes | None,
    at: datetime,
    root_call_id: str | None = None,
) -> bool:
    """Whether this (trigger, event) fires now: False if it fired before (a redelivery, or
    another replica got there first)."""
    fired = await conn.fetchval(
        _FIRE,
        trigger.org_id,
        trigger.trigger_id,
        event_id,
        task_id,
        trigger.response_type.value,
        response_integration_id,
        response_channel_id,
        reply_sealed,
        at,
        root_call_id,
    )
    if fired is None:
        return False
    await conn.execute(_COUNT_FIRE, trigger.trigger_id, at)
    return True


async def fire_of_task(conn: Conn, task_id: str) -> Any | None:
    """The fire that started a task, locked until the unit ends (so one answer is sent)."""
    return await conn.fetchrow(_FIRE_OF_TASK, task_id)


async def is_fired_tree(conn: Conn, root_call_id: str) -> bool:
    """Whether this execution tree is one a fire started (its task and all it did)."""
    return bool(await conn.fetchval(_FIRED_TREE, root_call_id))


async def is_fired_task(conn: Conn, task_id: str) -> bool:
    return bool(await conn.fetchval(_IS_FIRED_TASK, task_id))


async def mark_answered(conn: Conn, trigger_id: str, event_id: str, *, at: datetime) -> None:
    await conn.execute(_ANSWERED, trigger_id, event_id, at)
