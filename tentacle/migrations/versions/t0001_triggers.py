"""triggers and their fires (the triggers branch)

Revision ID: t0001
Revises: 0001
Create Date: 2026-11-21 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "t0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("triggers",)
depends_on: str | Sequence[str] | None = None


def _at(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("integration_id", sa.Text(), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=True),
        sa.Column(
            "event_filter",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("response_type", sa.Text(), nullable=False),
        sa.Column("response_integration_id", sa.Text(), nullable=True),
        sa.Column("response_channel_id", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("fire_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_triggers"),
    )
    op.create_index(
        "ix_triggers_source",
        "triggers",
        ["org_id", "source"],
        postgresql_where=sa.text("enabled"),
    )
    op.create_table(
        "trigger_fires",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("trigger_id", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("response_type", sa.Text(), nullable=False),
        sa.Column("response_integration_id", sa.Text(), nullable=True),
        sa.Column("response_channel_id", sa.Text(), nullable=True),
        sa.Column("reply_sealed", sa.LargeBinary(), nullable=True),
        _at("fired_at"),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("org_id", "trigger_id", "event_id", name="pk_trigger_fires"),
    )
    op.create_index("ix_trigger_fires_task", "trigger_fires", ["task_id"])
    enable_tenant_rls("triggers")
    enable_tenant_rls("trigger_fires")


def downgrade() -> None:
    disable_tenant_rls("trigger_fires")
    disable_tenant_rls("triggers")
    op.drop_index("ix_trigger_fires_task", table_name="trigger_fires")
    op.drop_table("trigger_fires")
    op.drop_index("ix_triggers_source", table_name="triggers", postgresql_where=sa.text("enabled"))
    op.drop_table("triggers")
