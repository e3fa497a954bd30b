"""Tables of scheduled tasks, on tentacle's metadata (the `triggers` branch, `t0002`).

`schedules` and `schedule_runs` are tenant tables with row-level security; a run row is unique
per (schedule, occurrence) and written in the transaction that stages the task-create command,
so each occurrence runs once across replicas. `schedule_timers` holds ids and times only, like
`task_timers`: it is how the platform-scope sweep finds due schedules across organisations
without reading them (claimed with SKIP LOCKED).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from tentacle.adapters.tables import metadata

schedules = Table(
    "schedules",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("id", Text, nullable=False),
    Column("name", Text),
    Column("goal", Text, nullable=False),
    Column("cron", Text),
    Column("interval_seconds", Integer),
    Column("timezone", Text, nullable=False),
    Column("follows_org_zone", Boolean, nullable=False, server_default=text("false")),
    Column("start_at", DateTime(timezone=True), nullable=False),
    Column("missed", Text, nullable=False),
    Column("max_catch_up", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("next_run_at", DateTime(timezone=True)),
    Column("last_run_at", DateTime(timezone=True)),
    Column("run_count", Integer, nullable=False, server_default=text("0")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_by", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "id", name="pk_schedules"),
)

schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("schedule_id", Text, nullable=False),
    Column("occurrence_at", DateTime(timezone=True), nullable=False),
    Column("task_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "schedule_id", "occurrence_at", name="pk_schedule_runs"),
)

schedule_timers = Table(
    "schedule_timers",
    metadata,
    Column("schedule_id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("due_at", DateTime(timezone=True)),
)
Index(
    "ix_schedule_timers_due",
    schedule_timers.c.due_at,
    postgresql_where=schedule_timers.c.due_at.isnot(None),
)

Index(
    "ix_schedules_follows_org_zone",
    schedules.c.org_id,
    postgresql_where=schedules.c.follows_org_zone,
)

# Each org's time zone as inkpass last announced it (t0005); no row: UTC, inkpass's default.
org_zones = Table(
    "org_zones",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", name="pk_org_zones"),
)
