"""trigger fires remember the execution tree of the task they started (the triggers branch)

Events from inside a fired task's tree fire no trigger, so a trigger whose task changes what
it watches (an object of the type it reacts to) cannot feed itself, or another, forever.

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-21 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t0003"
down_revision: str | None = "t0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("trigger_fires", sa.Column("root_call_id", sa.Text(), nullable=True))
    op.create_index("ix_trigger_fires_tree", "trigger_fires", ["root_call_id"])


def downgrade() -> None:
    op.drop_index("ix_trigger_fires_tree", table_name="trigger_fires")
    op.drop_column("trigger_fires", "root_call_id")
