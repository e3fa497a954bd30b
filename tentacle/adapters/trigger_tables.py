"""Tables of triggered tasks, on tentacle's metadata (the `triggers` branch of its migrations,
`t0001...`). Both are tenant tables with row-level security.

`trigger_fires` is the exactly-once record: one row per (trigger, event), written in the same
transaction as the command that creates the task, so a redelivered event or a second replica
finds the row and fires nothing. It also remembers where the task's answer goes; an
interaction's reply handle (a short-lived credential) is kept encrypted and bound to its row.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from tentacle.adapters.tables import metadata

triggers = Table(
    "triggers",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("id", Text, nullable=False),
    Column("name", Text),
    Column("goal", Text),
    Column("callback", JSONB),
    Column("source", Text, nullable=False),
    Column("integration_id", Text),
    Column("event_type", Text),
    Column("event_filter", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("response_type", Text, nullable=False),
    Column("response_integration_id", Text),
    Column("response_channel_id", Text),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("fire_count", Integer, nullable=False, server_default=text("0")),
    Column("last_fired_at", DateTime(timezone=True)),
    Column("created_by", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "id", name="pk_triggers"),
)
Index(
    "ix_triggers_source",
    triggers.c.org_id,
    triggers.c.source,
    postgresql_where=triggers.c.enabled,
)

trigger_fires = Table(
    "trigger_fires",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("trigger_id", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("task_id", Text),
    Column("response_type", Text, nullable=False),
    Column("response_integration_id", Text),
    Column("response_channel_id", Text),
    Column("reply_sealed", LargeBinary),
    Column("fired_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("responded_at", DateTime(timezone=True)),
    Column("root_call_id", Text),
    PrimaryKeyConstraint("org_id", "trigger_id", "event_id", name="pk_trigger_fires"),
)
Index("ix_trigger_fires_task", trigger_fires.c.task_id)
Index("ix_trigger_fires_tree", trigger_fires.c.root_call_id)
