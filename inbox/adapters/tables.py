"""The tables of inbox's own database (alembic autogenerates from this metadata).

Every table belongs to an organisation and is confined to it by row-level security.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

TENANT_TABLES = (
    "conversations",
    "messages",
    "conversation_tasks",
    "checkpoints",
    "projected_events",
    "feed_heads",
    "feed_entries",
)

conversations = Table(
    "conversations",
    metadata,
    Column("org_id", String(128), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("title", Text, nullable=False, server_default=""),
    Column("read_status", String(16), nullable=False, server_default="unread"),
    Column("pending_checkpoints", Integer, nullable=False, server_default="0"),
    Column("last_message_at", DateTime(timezone=True), nullable=True),
    Column("last_preview", Text, nullable=False, server_default=""),
    Column("last_message_key", String(200), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "conversation_id"),
    Index("conversations_recent", "org_id", "updated_at", "conversation_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("org_id", String(128), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("task_id", String(128), nullable=True),
    Column("task_seq", Integer, nullable=True),
    Column("role", String(16), nullable=False),
    Column("agent_id", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body", Text, nullable=False, server_default=""),
    Column("data", JSONB, nullable=False, server_default="{}"),
    Column("checkpoint_id", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("org_id", "message_id"),
    Index("messages_thread", "org_id", "conversation_id", "created_at", "message_id"),
)

conversation_tasks = Table(
    "conversation_tasks",
    metadata,
    Column("org_id", String(128), nullable=False),
    Column("task_id", String(128), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("goal", Text, nullable=False, server_default=""),
    Column("status", String(32), nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("org_id", "task_id"),
    Index("conversation_tasks_by_conversation", "org_id", "conversation_id"),
)

# A checkpoint's state, whichever of its two events (requested, resolved) arrives first.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("org_id", String(128), nullable=False),
    Column("checkpoint_id", String(128), nullable=False),
    Column("task_id", String(128), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("org_id", "checkpoint_id"),
)

# Lifecycle events already applied, by their place in the task's numbering (not by message id:
# a republished copy of an event carries a new message id but the same task and seq).
projected_events = Table(
    "projected_events",
    metadata,
    Column("org_id", String(128), nullable=False),
    Column("task_id", String(128), nullable=False),
    Column("seq", Integer, nullable=False),
    PrimaryKeyConstraint("org_id", "task_id", "seq"),
)

feed_heads = Table(
    "feed_heads",
    metadata,
    Column("org_id", String(128), nullable=False),
    Column("head", BigInteger, nullable=False),
    PrimaryKeyConstraint("org_id"),
)

feed_entries = Table(
    "feed_entries",
    metadata,
    Column("org_id", String(128), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("conversation_id", String(128), nullable=True),
    Column("task_id", String(128), nullable=True),
    Column("data", JSONB, nullable=False),
    Column("source_at", DateTime(timezone=True), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("org_id", "seq"),
)

# Request rate limits shared by every replica (GCRA: one "theoretical arrival time" per key).
# Unlogged: a crash forgets them, which only resets the limits.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(200), nullable=False),
    Column("tat", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("key"),
    prefixes=["UNLOGGED"],
)
