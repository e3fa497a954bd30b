"""Integrators' webhook receipts move to a JetStream key-value bucket (see
mimic/adapters/webhook_receipts.py): the ingress writes no row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 12:36:28.606592
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_webhook_receipts_received"), table_name="webhook_receipts")
    op.drop_table("webhook_receipts")


def downgrade() -> None:
    op.create_table(
        "webhook_receipts",
        sa.Column("integration_id", sa.TEXT(), autoincrement=False, nullable=False),
        sa.Column("delivery_id", sa.TEXT(), autoincrement=False, nullable=False),
        sa.Column("org_id", sa.TEXT(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.TEXT(), autoincrement=False, nullable=False),
        sa.Column(
            "received_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            autoincrement=False,
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "integration_id", "delivery_id", name=op.f("webhook_receipts_pkey")
        ),
    )
    op.create_index(
        op.f("ix_webhook_receipts_received"), "webhook_receipts", ["received_at"], unique=False
    )
