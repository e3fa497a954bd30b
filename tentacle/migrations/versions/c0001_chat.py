"""Flux's conversations: replies and turns (the chat branch)

Revision ID: c0001
Revises: 0001
Create Date: 2026-11-21 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "c0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("chat",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_replies",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("reply_id", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("text_digest", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("pending", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("event_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rounds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("round_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cancel_requested", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("org_id", "reply_id", name="pk_chat_replies"),
    )
    op.create_index(
        "ix_chat_replies_conversation",
        "chat_replies",
        ["org_id", "conversation_id", "created_at"],
    )
    op.create_table(
        "chat_turns",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("tool_calls", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("tool_call_id", sa.Text(), nullable=True),
        sa.Column("tool_name", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("actor", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("org_id", "conversation_id", "seq", name="pk_chat_turns"),
    )
    enable_tenant_rls("chat_replies")
    enable_tenant_rls("chat_turns")


def downgrade() -> None:
    disable_tenant_rls("chat_turns")
    disable_tenant_rls("chat_replies")
    op.drop_table("chat_turns")
    op.drop_index("ix_chat_replies_conversation", table_name="chat_replies")
    op.drop_table("chat_replies")
