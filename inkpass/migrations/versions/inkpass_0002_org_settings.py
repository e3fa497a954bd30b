"""Organisation settings: a time zone, and a version so the latest change wins downstream.

Revision ID: inkpass_0002
Revises: inkpass_0001
Create Date: 2026-11-21 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "inkpass_0002"
down_revision: str | None = "inkpass_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "orgs", sa.Column("timezone", sa.Text(), server_default=sa.text("'UTC'"), nullable=False)
    )
    op.add_column(
        "orgs",
        sa.Column("settings_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("orgs", "settings_version")
    op.drop_column("orgs", "timezone")
