"""schedules, their runs and timers (the triggers branch)

Revision ID: t0002
Revises: t0001
Create Date: 2026-11-21 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "t0002"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("cron", sa.Text(), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("missed", sa.Text(), nullable=False),
        sa.Column("max_catch_up", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_schedules"),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("schedule_id", sa.Text(), nullable=False),
        sa.Column("occurrence_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("org_id", "schedule_id", "occurrence_at", name="pk_schedule_runs"),
    )
    op.create_table(
        "schedule_timers",
        sa.Column("schedule_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("schedule_id"),
    )
    op.create_index(
        "ix_schedule_timers_due",
        "schedule_timers",
        ["due_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    enable_tenant_rls("schedules")
    enable_tenant_rls("schedule_runs")


def downgrade() -> None:
    disable_tenant_rls("schedule_runs")
    disable_tenant_rls("schedules")
    op.drop_index(
        "ix_schedule_timers_due",
        table_name="schedule_timers",
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )
    op.drop_table("schedule_timers")
    op.drop_table("schedule_runs")
    op.drop_table("schedules")
