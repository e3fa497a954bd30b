"""Outbox and processed-messages tables.

Revision ID: shared_0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "shared_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fluxos_outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("batch", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column(
            "headers", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    # The relay scans unpublished rows in id order, and per unit of work for ordering.
    op.create_index(
        "ix_fluxos_outbox_unpublished",
        "fluxos_outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index(
        "ix_fluxos_outbox_unpublished_batch",
        "fluxos_outbox",
        ["batch", "id"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    # Pruning deletes published rows by age.
    op.create_index(
        "ix_fluxos_outbox_published_at",
        "fluxos_outbox",
        ["published_at"],
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )
    op.create_table(
        "fluxos_processed_messages",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("consumer", "message_id"),
    )
    op.create_index(
        "ix_fluxos_processed_messages_processed_at",
        "fluxos_processed_messages",
        ["processed_at"],
    )


def downgrade() -> None:
    op.drop_table("fluxos_processed_messages")
    op.drop_table("fluxos_outbox")
