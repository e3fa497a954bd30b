"""Providers' delivery reports, read into one shape: which message, what happened, when.

Reports mimic does not track (opens, clicks, soft bounces that will be retried, delays) are
read as None: acknowledged, applied to nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from contracts.mimic.models import NotificationStatus
from mimic.domain.inbound import malformed


@dataclass(frozen=True)
class StatusReport:
    receipt_id: str
    """The report's own identity, for replay protection."""
    provider_message_id: str
    status: NotificationStatus
    at: datetime | None
    detail: str | None = None


def _object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise malformed("the body is not JSON") from None
    if not isinstance(data, dict):
        raise malformed("the body is not a JSON object")
    return data


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


_RESEND: Final = {
    "email.delivered": NotificationStatus.DELIVERED,
    "email.bounced": NotificationStatus.BOUNCED,
    "email.failed": NotificationStatus.FAILED,
}


def read_resend(receipt_id: str, body: bytes) -> StatusReport | None:
    data = _object(body)
    status = _RESEND.get(str(data.get("type")))
    payload = data.get("data")
    if status is None:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("email_id"), str):
        raise malformed("a Resend email event carries data.email_id")
    bounce = payload.get("bounce")
    detail = bounce.get("message") if isinstance(bounce, dict) else None
    return StatusReport(
        receipt_id, payload["email_id"], status, _when(data.get("created_at")), detail
    )


# Postmark bounce types that mean the address will not take mail; the rest (soft bounces,
# auto-responders, transient failures) are retried by Postmark or are not failures.
_HARD_BOUNCES: Final = frozenset(
    {
        "HardBounce",
        "BadEmailAddress",
        "ManuallyDeactivated",
        "SpamNotification",
        "Blocked",
        "DMARCPolicy",
        "InboundError",
        "AddressChange",
    }
)


def read_postmark(body: bytes) -> StatusReport | None:
    data = _object(body)
    kind = data.get("RecordType")
    message_id = data.get("MessageID")
    if kind not in ("Delivery", "Bounce"):
        return None
    if not isinstance(message_id, str) or not message_id:
        raise malformed("a Postmark delivery report carries a MessageID")
    if kind == "Delivery":
        return StatusReport(
            f"delivery:{message_id}",
            message_id,
            NotificationStatus.DELIVERED,
            _when(data.get("DeliveredAt")),
            data.get("Details") if isinstance(data.get("Details"), str) else None,
        )
    if data.get("Type") not in _HARD_BOUNCES:
        return None
    return StatusReport(
        f"bounce:{data.get('ID', message_id)}",
        message_id,
        NotificationStatus.BOUNCED,
        _when(data.get("BouncedAt")),
        data.get("Description") if isinstance(data.get("Description"), str) else None,
    )
