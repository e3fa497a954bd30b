"""Notifications and their send journal, in mimic's database.

Every function takes the session of the caller's unit of work: the caller decides what commits
together (a status change and the event that announces it, through the outbox).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import ErrorV1
from contracts.mimic.models import (
    Channel,
    NotificationStatus,
    NotificationV1,
    Priority,
    TemplateRefV1,
)
from mimic.adapters.rows import AnyRow
from mimic.adapters.tables import notifications, provider_messages, send_attempts

Notification: TypeAlias = AnyRow

OPEN_OUTCOMES = ("calling", "in_doubt")
"""Attempts whose result is not known: the provider may have sent the message."""


# Built once: constructing statements costs more than running them on the hot path.
_LOCK = select(notifications).where(notifications.c.id == bindparam("nid")).with_for_update()

# One round trip for an accepted call: settle the journal entry, remember the provider's id
# (status webhooks name only that), and move the notification on. The status guard keeps a
# row that something else settled meanwhile as it is.
ACCEPT = text(
    """
    WITH before AS (
        SELECT announced FROM notifications WHERE id = :nid FOR UPDATE
    ), attempt AS (
        UPDATE send_attempts
        SET outcome = 'accepted', provider_message_id = :pmid, finished_at = :now
        WHERE notification_id = :nid AND seq = :seq
    ), known AS (
        INSERT INTO provider_messages (provider, provider_message_id, org_id, notification_id)
        VALUES (:provider, :pmid, :org_id, :nid)
        ON CONFLICT DO NOTHING
    )
    UPDATE notifications
    SET status = :status, provider = :provider, provider_message_id = :pmid,
        sent_at = :now, delivered_at = :delivered_at, updated_at = :now, announced = true
    FROM before
    WHERE id = :nid AND status = 'sending'
    RETURNING notifications.*, before.announced AS was_announced
    """
)


async def lock(session: AsyncSession, notification_id: str) -> Notification | None:
    result = await session.execute(_LOCK, {"nid": notification_id})
    row: Notification | None = result.first()
    return row


async def accept(
    session: AsyncSession,
    *,
    org_id: str,
    notification_id: str,
    seq: int,
    provider: str,
    provider_message_id: str,
    delivered: bool,
    now: datetime,
) -> Notification | None:
    """Record an accepted call; the notification as now `sent` (or `delivered`), with
    `was_announced` (its earlier states were published before), or None if it had moved on."""
    result = await session.execute(
        ACCEPT,
        accept_params(
            org_id=org_id,
            notification_id=notification_id,
            seq=seq,
            provider=provider,
            provider_message_id=provider_message_id,
            delivered=delivered,
            now=now,
        ),
    )
    row: Notification | None = result.first()
    return row


def accept_params(
    *,
    org_id: str,
    notification_id: str,
    seq: int,
    provider: str,
    provider_message_id: str,
    delivered: bool,
    now: datetime,
) -> dict[str, Any]:
    """The parameters of `ACCEPT`, by name."""
    status = NotificationStatus.DELIVERED if delivered else NotificationStatus.SENT
    return {
        "nid": notification_id,
        "seq": seq,
        "org_id": org_id,
        "provider": provider,
        "pmid": provider_message_id,
        "status": status.value,
        "delivered_at": now if delivered else None,
        "now": now,
    }


async def create(session: AsyncSession, values: Mapping[str, Any]) -> Notification | None:
    """Insert, or None when the id exists (a concurrent first delivery got there first)."""
    result = await session.execute(
        pg_insert(notifications)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[notifications.c.id])
        .returning(*notifications.c)
    )
    row: Notification | None = result.first()
    return row


async def change(session: AsyncSession, notification_id: str, **values: Any) -> Notification:
    result = await session.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(**values)
        .returning(*notifications.c)
    )
    row: Notification = result.one()
    return row


async def open_attempt(session: AsyncSession, notification_id: str) -> AnyRow | None:
    result = await session.execute(
        select(send_attempts)
        .where(
            send_attempts.c.notification_id == notification_id,
            send_attempts.c.outcome.in_(OPEN_OUTCOMES),
        )
        .order_by(send_attempts.c.seq.desc())
        .limit(1)
    )
    return result.first()


async def start_attempt(
    session: AsyncSession, *, org_id: str, notification_id: str, provider: str, now: datetime
) -> int:
    """Journal a provider call before making it; its sequence number."""
    seq = select(func.coalesce(func.max(send_attempts.c.seq), 0) + 1).where(
        send_attempts.c.notification_id == notification_id
    )
    result = await session.execute(
        insert(send_attempts)
        .values(
            notification_id=notification_id,
            seq=seq.scalar_subquery(),
            org_id=org_id,
            provider=provider,
            outcome="calling",
            started_at=now,
        )
        .returning(send_attempts.c.seq)
    )
    return int(result.scalar_one())


async def restart_attempt(
    session: AsyncSession, notification_id: str, seq: int, now: datetime
) -> None:
    await session.execute(
        update(send_attempts)
        .where(send_attempts.c.notification_id == notification_id, send_attempts.c.seq == seq)
        .values(outcome="calling", started_at=now, finished_at=None)
    )


async def finish_attempt(
    session: AsyncSession,
    notification_id: str,
    seq: int,
    *,
    outcome: str,
    detail: str | None,
    now: datetime,
    provider_message_id: str | None = None,
) -> None:
    await session.execute(
        update(send_attempts)
        .where(send_attempts.c.notification_id == notification_id, send_attempts.c.seq == seq)
        .values(
            outcome=outcome,
            detail=detail[:1000] if detail else None,
            provider_message_id=provider_message_id,
            finished_at=now,
        )
    )


async def find_provider_message(
    session: AsyncSession, provider: str, provider_message_id: str
) -> AnyRow | None:
    result = await session.execute(
        select(provider_messages.c.org_id, provider_messages.c.notification_id).where(
            provider_messages.c.provider == provider,
            provider_messages.c.provider_message_id == provider_message_id,
        )
    )
    return result.first()


async def get(
    session: AsyncSession, *, notification_id: str | None = None, key: str | None = None
) -> Notification | None:
    query = select(notifications)
    if notification_id is not None:
        query = query.where(notifications.c.id == notification_id)
    if key is not None:
        query = query.where(notifications.c.idempotency_key == key)
    return (await session.execute(query)).first()


async def listing(
    session: AsyncSession,
    *,
    status: NotificationStatus | None,
    recipient: str | None,
    before: datetime | None,
    limit: int,
) -> Sequence[Notification]:
    query = select(notifications).order_by(notifications.c.queued_at.desc()).limit(limit)
    if status is not None:
        query = query.where(notifications.c.status == status.value)
    if recipient is not None:
        query = query.where(func.lower(notifications.c.recipient) == recipient.strip().lower())
    if before is not None:
        query = query.where(notifications.c.queued_at < before)
    return (await session.execute(query)).all()


def to_model(row: Notification) -> NotificationV1:
    error = (
        ErrorV1(code=row.error_code, message=row.error_message or "")
        if row.error_code is not None
        else None
    )
    template = (
        TemplateRefV1(key=row.template_key, version=row.template_version)
        if row.template_key is not None
        else None
    )
    return NotificationV1(
        notification_id=row.id,
        org_id=row.org_id,
        idempotency_key=row.idempotency_key,
        channel=Channel(row.channel),
        recipient=row.recipient,
        priority=Priority(row.priority),
        status=NotificationStatus(row.status),
        template=template,
        subject=row.subject,
        provider=row.provider,
        provider_message_id=row.provider_message_id,
        attempts=row.attempts,
        error=error,
        deferred_until=row.deferred_until,
        metadata=dict(row.metadata),
        queued_at=row.queued_at,
        sending_at=row.sending_at,
        sent_at=row.sent_at,
        delivered_at=row.delivered_at,
        bounced_at=row.bounced_at,
        failed_at=row.failed_at,
        updated_at=row.updated_at,
    )
