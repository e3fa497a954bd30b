"""The delivery log, as the caller's organisation sees it (row-level security does the rest)."""

from __future__ import annotations

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    GetNotificationV1,
    ListNotificationsV1,
    NotificationListV1,
    NotificationV1,
)
from mimic.adapters import notifications as repo
from mimic.domain.errors import MimicError
from shared.db import Database


async def get_notification(db: Database, org_id: str, query: GetNotificationV1) -> NotificationV1:
    async with db.transaction(org_id=org_id) as uow:
        row = await repo.get(
            uow.session, notification_id=query.notification_id, key=query.idempotency_key
        )
    if row is None:
        # Another organisation's notification is as invisible as one that does not exist.
        raise MimicError(MimicErrorCode.NOT_FOUND, "no such notification")
    return repo.to_model(row)


async def list_notifications(
    db: Database, org_id: str, query: ListNotificationsV1
) -> NotificationListV1:
    async with db.transaction(org_id=org_id) as uow:
        rows = await repo.listing(
            uow.session,
            status=query.status,
            recipient=query.recipient,
            before=query.before,
            limit=query.limit,
        )
    return NotificationListV1(notifications=[repo.to_model(r) for r in rows])
