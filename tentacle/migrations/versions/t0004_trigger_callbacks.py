"""triggers may route events to a callback instead of a task (the triggers branch)

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-21 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0004"
down_revision: str | None = "t0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "triggers",
        sa.Column("callback", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.alter_column("triggers", "goal", existing_type=sa.Text(), nullable=True)
    op.alter_column("trigger_fires", "task_id", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM trigger_fires WHERE task_id IS NULL")
    op.execute("DELETE FROM triggers WHERE goal IS NULL")
    op.alter_column("trigger_fires", "task_id", existing_type=sa.Text(), nullable=False)
    op.alter_column("triggers", "goal", existing_type=sa.Text(), nullable=False)
    op.drop_column("triggers", "callback")
