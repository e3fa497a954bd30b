"""The tables of tentacle's own database (alembic autogenerates from this metadata).

Every table holding an organisation's data has row-level security by `org_id` (see the
migration). `agents` differs: built-in agents (org_id NULL) are visible to every organisation,
custom ones only to their own. `task_timers` has no tenant data at all (ids and times): it is
how the platform-scope maintenance loops find work across organisations without reading them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

Money = Numeric(18, 8)


def _now() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


tasks = Table(
    "tasks",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("request_hash", Text, nullable=False),
    Column("goal", Text, nullable=False),
    Column("constraints", JSONB, nullable=False),
    Column("context", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("budget_usd", Money, nullable=False),
    Column("conversation_id", Text),
    Column("parent_task_id", Text),
    Column("status", Text, nullable=False),
    Column("paused_from", Text),
    Column("terminal_reason", Text),
    Column("error", JSONB),
    Column("created_by", JSONB, nullable=False),
    Column("fast_path", Boolean, nullable=False, server_default=text("false")),
    Column("replan_count", Integer, nullable=False, server_default=text("0")),
    Column("plan_version", Integer, nullable=False, server_default=text("0")),
    Column("event_seq", Integer, nullable=False, server_default=text("0")),
    Column("version", Integer, nullable=False, server_default=text("0")),
    Column("result", JSONB),
    Column("summary", Text),
    Column("queued", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("call_id", Text, nullable=False),
    Column("root_call_id", Text, nullable=False),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("org_id", "request_id", name="uq_tasks_org_request"),
    # An expression index rather than a stored tsvector: a task row is updated on every step,
    # and a generated column would be recomputed each time.
    Index(
        "ix_tasks_search",
        func.to_tsvector(literal_column("'english'::regconfig"), literal_column("goal")),
        postgresql_using="gin",
    ),
)
Index("ix_tasks_org_created", tasks.c.org_id, tasks.c.created_at.desc())
Index("ix_tasks_org_conversation", tasks.c.org_id, tasks.c.conversation_id)

plans = Table(
    "plans",
    metadata,
    Column("task_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("org_id", Text, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("why", Text, nullable=False),
    _now(),
    PrimaryKeyConstraint("task_id", "version"),
    ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
)

steps = Table(
    "steps",
    metadata,
    Column("task_id", Text, nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("step_id", Text, nullable=False),
    Column("org_id", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("agent", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("tolerated", Boolean, nullable=False, server_default=text("false")),
    Column("cleared", JSONB),
    Column("output", JSONB),
    Column("error", JSONB),
    Column("cost_usd", Money, nullable=False, server_default=text("0")),
    Column("call_id", Text),
    Column("parent_call_id", Text),
    Column("root_call_id", Text),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("output_pruned", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("task_id", "plan_version", "step_id"),
    ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
)

task_events = Table(
    "task_events",
    metadata,
    Column("task_id", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("org_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("event", JSONB, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("task_id", "seq"),
    ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("task_id", Text, nullable=False),
    Column("step_id", Text, nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("view", JSONB, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    _now(),
    Column("resolved_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
)
Index("ix_checkpoints_task", checkpoints.c.task_id)
Index(
    "ix_checkpoints_pending",
    checkpoints.c.org_id,
    checkpoints.c.created_at,
    postgresql_where=checkpoints.c.status == "pending",
)

side_effects = Table(
    "side_effects",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("task_id", Text, nullable=False),
    Column("step_id", Text, nullable=False),
    Column("tool", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("result", JSONB),
    Column("call_id", Text),
    Column("parent_call_id", Text),
    Column("root_call_id", Text),
    _now(),
    Column("completed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("org_id", "key"),
)
Index("ix_side_effects_task", side_effects.c.task_id)

agents = Table(
    "agents",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("domain", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("spec", JSONB, nullable=False),
    Column("spec_hash", Text, nullable=False),
    _now(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index(
    "uq_agents_scope_name",
    func.coalesce(agents.c.org_id, ""),
    agents.c.name,
    unique=True,
)

budget_usage = Table(
    "budget_usage",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("held", Money, nullable=False, server_default=text("0")),
    Column("spent", Money, nullable=False, server_default=text("0")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "scope", "key"),
)

budget_reservations = Table(
    "budget_reservations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("task_id", Text),
    Column("agent", Text),
    Column("day", Date, nullable=False),
    Column("held", Money, nullable=False),
    Column("spent", Money),
    Column("status", Text, nullable=False),
    Column("call_id", Text),
    Column("parent_call_id", Text),
    Column("root_call_id", Text),
    _now(),
    Column("settled_at", DateTime(timezone=True)),
)
Index("ix_budget_reservations_task", budget_reservations.c.org_id, budget_reservations.c.task_id)

approval_preferences = Table(
    "approval_preferences",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("actor_kind", Text, nullable=False),
    Column("actor_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("approvals", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("remembered", Boolean, nullable=False),
    Column("last_approved_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "actor_kind", "actor_id", "key"),
)

task_timers = Table(
    "task_timers",
    metadata,
    Column("task_id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("due_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("pruned_at", DateTime(timezone=True)),
)
Index(
    "ix_task_timers_due",
    task_timers.c.due_at,
    postgresql_where=task_timers.c.finished_at.is_(None),
)
Index(
    "ix_task_timers_unpruned",
    task_timers.c.finished_at,
    postgresql_where=task_timers.c.pruned_at.is_(None),
)

TENANT_TABLES = (
    "tasks",
    "plans",
    "steps",
    "task_events",
    "checkpoints",
    "side_effects",
    "budget_usage",
    "budget_reservations",
    "approval_preferences",
)
