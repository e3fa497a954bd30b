"""The shared infrastructure tables every service database holds (see `migrations/`).

They are platform-scoped, without row-level security: the relay and the dedupe check must see
every organisation's rows. Indexes mirror the migrations so autogenerate finds no drift.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

SHARED_VERSION_TABLE: Final = "fluxos_shared_alembic_version"

metadata = MetaData()

outbox = Table(
    "fluxos_outbox",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    # One value per unit of work: the relay keeps a transaction's messages in order by it.
    Column("batch", Uuid(as_uuid=False), nullable=False),
    Column("subject", Text, nullable=False),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("body", LargeBinary, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
)
Index(
    "ix_fluxos_outbox_unpublished",
    outbox.c.id,
    postgresql_where=outbox.c.published_at.is_(None),
)
Index(
    "ix_fluxos_outbox_unpublished_batch",
    outbox.c.batch,
    outbox.c.id,
    postgresql_where=outbox.c.published_at.is_(None),
)
Index(
    "ix_fluxos_outbox_published_at",
    outbox.c.published_at,
    postgresql_where=outbox.c.published_at.is_not(None),
)

processed_messages = Table(
    "fluxos_processed_messages",
    metadata,
    Column("consumer", Text, primary_key=True),
    Column("message_id", Text, primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_fluxos_processed_messages_processed_at", processed_messages.c.processed_at)

SHARED_TABLES: Final = frozenset({*metadata.tables, SHARED_VERSION_TABLE})
"""Names a service's own migrations must leave alone (autogenerate would drop them)."""
