"""notifications.announced: queued and send_started are published with the first call's
outcome, so a send costs one outbox round instead of two.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:43:53.520220
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notifications",
        sa.Column("announced", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("notifications", "announced")
