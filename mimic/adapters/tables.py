"""The tables of mimic's own database (alembic autogenerates from this metadata).

Tenant tables (an `org_id` column) have row-level security by organisation, set per
transaction. Three are platform tables on purpose, read before the organisation is known or
kept for all of them: `provider_messages` (a provider's status webhook names only its own
message id), `status_receipts` (replay protection of those webhooks: ids only, pruned when old)
and `rate_counters` (the per-channel limit spans organisations; recipient keys are hashed).
Integrators' webhooks leave no row: their replay protection lives in JetStream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()


def _created(name: str = "created_at") -> Column[datetime]:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


templates = Table(
    "templates",
    metadata,
    Column("org_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("subject", Text, nullable=False),
    Column("text_body", Text),
    Column("html_body", Text),
    Column("variables", JSONB, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    _created(),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("request_hash", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("template_key", Text),
    Column("template_version", Integer),
    Column("subject", Text),
    Column("provider", Text),
    Column("provider_message_id", Text),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("deferrals", Integer, nullable=False, server_default=text("0")),
    Column("rate_charged", Boolean, nullable=False, server_default=text("false")),
    # False between a first delivery's call and its outcome: queued and send_started are
    # published with the outcome (or by the redelivery, after a crash).
    Column("announced", Boolean, nullable=False, server_default=text("true")),
    Column("error_code", Text),
    Column("error_message", Text),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("deferred_until", DateTime(timezone=True)),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("sending_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("bounced_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "idempotency_key", name="uq_notifications_org_key"),
)
Index("ix_notifications_org_queued", notifications.c.org_id, notifications.c.queued_at.desc())

send_attempts = Table(
    "send_attempts",
    metadata,
    Column("notification_id", Text, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("provider", Text, nullable=False),
    # calling (journalled before the call) -> accepted | rejected | unavailable | in_doubt
    Column("outcome", Text, nullable=False),
    Column("detail", Text),
    Column("provider_message_id", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    ForeignKeyConstraint(["notification_id"], ["notifications.id"], ondelete="CASCADE"),
)

provider_messages = Table(
    "provider_messages",
    metadata,
    Column("provider", Text, primary_key=True),
    Column("provider_message_id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("notification_id", Text, nullable=False),
    _created(),
)

status_receipts = Table(
    "status_receipts",
    metadata,
    Column("provider", Text, primary_key=True),
    Column("receipt_id", Text, primary_key=True),
    _created("received_at"),
)
Index("ix_status_receipts_received", status_receipts.c.received_at)

rate_counters = Table(
    "rate_counters",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_rate_counters_expires", rate_counters.c.expires_at)

integrations = Table(
    "integrations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False),
    # Unguessable: the last segment of the ingress path integrators post to.
    Column("route_key", Text, nullable=False, unique=True),
    Column("settings", JSONB, nullable=False),
    Column("secret_names", JSONB, nullable=False),
    # AES-256-GCM (shared.crypto), bound to org, table, row and column.
    Column("secrets", LargeBinary, nullable=False),
    Column("key_version", Integer, nullable=False),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_integrations_org_provider", integrations.c.org_id, integrations.c.provider)

actions = Table(
    "actions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("request_hash", Text, nullable=False),
    Column("integration_id", Text),
    Column("provider", Text),
    Column("action_type", Text, nullable=False),
    # pending (safe to call) -> calling (journalled before the call) -> completed | failed
    Column("status", Text, nullable=False),
    Column("result", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("error_code", Text),
    Column("error_message", Text),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("calling_since", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    UniqueConstraint("org_id", "idempotency_key", name="uq_actions_org_key"),
)

TENANT_TABLES: Final = (
    "templates",
    "notifications",
    "send_attempts",
    "integrations",
    "actions",
)
