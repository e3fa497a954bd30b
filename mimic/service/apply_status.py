"""Provider delivery reports (status webhooks): verified, de-duplicated, applied, announced.

The report names only the provider's message id, so the notification (and its organisation) is
found through `provider_messages` first; then the change is made in that organisation's
transaction, with its event, if the transition is allowed (reports arrive late and out of
order).

A report can also arrive early: the provider answers the send, then reports delivery, and its
report may overtake the commit that records the answer. A fresh report for a message not known
yet is therefore answered 503 (nothing claimed), and the provider's retry finds it; an old one
is a message mimic never sent (another sender on the same account) and is acknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy.dialects.postgresql import insert

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import NotificationStatus
from contracts.mimic.subjects import (
    NOTIFICATION_BOUNCED,
    NOTIFICATION_DELIVERED,
    NOTIFICATION_FAILED,
)
from mimic.adapters import notifications as repo
from mimic.adapters.tables import status_receipts
from mimic.domain import signatures
from mimic.domain.errors import RetryLater, WebhookRejected
from mimic.domain.provider_status import StatusReport, read_postmark, read_resend
from mimic.domain.status import can_move
from mimic.service.events import Events
from shared.db import Database
from shared.db.rls import set_org
from shared.logging import get_logger

log = get_logger(__name__)

_EVENTS = {
    NotificationStatus.DELIVERED: NOTIFICATION_DELIVERED,
    NotificationStatus.BOUNCED: NOTIFICATION_BOUNCED,
    NotificationStatus.FAILED: NOTIFICATION_FAILED,
}
UNMATCHED_WAIT: Final = timedelta(minutes=15)
"""How long a report for an unknown message is sent back for another try."""

_STAMPS = {
    NotificationStatus.DELIVERED: "delivered_at",
    NotificationStatus.BOUNCED: "bounced_at",
    NotificationStatus.FAILED: "failed_at",
}


class ApplyProviderStatus:
    def __init__(
        self,
        db: Database,
        events: Events,
        *,
        resend_secret: str | None,
        postmark_credentials: tuple[str, str] | None,
        tolerance: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.events = events
        self.resend_secret = resend_secret
        self.postmark_credentials = postmark_credentials
        self.tolerance = tolerance
        self.clock = clock

    async def resend(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        if self.resend_secret is None:
            raise _not_configured("resend")
        signatures.verify_svix(
            headers, body, self.resend_secret, now=self.clock(), tolerance=self.tolerance
        )
        report = read_resend(headers["svix-id"], body)
        return await self._apply("resend", report)

    async def postmark(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        if self.postmark_credentials is None:
            raise _not_configured("postmark")
        signatures.check_basic_auth(headers, *self.postmark_credentials)
        return await self._apply("postmark", read_postmark(body))

    async def _apply(self, provider: str, report: StatusReport | None) -> dict[str, Any]:
        if report is None:
            return {"ok": True, "applied": False}
        async with self.db.transaction() as uow:
            claimed = await uow.session.execute(
                insert(status_receipts)
                .values(provider=provider, receipt_id=report.receipt_id[:300])
                .on_conflict_do_nothing()
                .returning(status_receipts.c.receipt_id)
            )
            if claimed.first() is None:
                raise WebhookRejected(
                    MimicErrorCode.WEBHOOK_REPLAYED, "this report was received before", status=409
                )
            found = await repo.find_provider_message(
                uow.session, provider, report.provider_message_id
            )
            if found is None:
                now = datetime.fromtimestamp(self.clock(), UTC)
                if report.at is not None and report.at > now - UNMATCHED_WAIT:
                    # Rolls back the receipt: the retry is not taken for a replay.
                    raise RetryLater(
                        MimicErrorCode.REPORT_UNMATCHED,
                        "no message with this id is recorded yet",
                        retry_after=5,
                    )
                return {"ok": True, "applied": False}  # not a message mimic sent
            # Same transaction, now scoped to the message's organisation: the receipt and the
            # change commit together, so a failure here lets the provider's retry through.
            await set_org(uow.session, found.org_id)
            row = await repo.lock(uow.session, found.notification_id)
            if row is None or not can_move(NotificationStatus(row.status), report.status):
                return {"ok": True, "applied": False}
            now = datetime.now(UTC)
            values: dict[str, Any] = {
                "status": report.status.value,
                _STAMPS[report.status]: report.at or now,
                "updated_at": now,
            }
            if report.status is not NotificationStatus.DELIVERED:
                code = (
                    MimicErrorCode.PROVIDER_REJECTED
                    if report.status is NotificationStatus.FAILED
                    else MimicErrorCode.BOUNCED
                )
                values["error_code"] = code.value
                values["error_message"] = (report.detail or f"reported by {provider}")[:1000]
            changed = await repo.change(uow.session, row.id, **values)
            self.events.stage(uow, _EVENTS[report.status], changed)
        log.info("notification.status_applied", provider=provider, status=report.status.value)
        return {"ok": True, "applied": True}


def _not_configured(provider: str) -> WebhookRejected:
    return WebhookRejected(
        MimicErrorCode.WEBHOOK_UNKNOWN, f"{provider} status webhooks are not configured", status=404
    )
