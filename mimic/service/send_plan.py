"""The pieces of sending that are plain data: the prepared content, the decision taken under the
row lock, and the event snapshots of states a row has already moved past."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import NotificationStatus, NotificationV1, SendNotificationV1
from mimic.adapters.notifications import Notification, to_model
from mimic.adapters.providers.base import EmailProvider
from mimic.domain.email import Mailbox
from mimic.domain.ratelimit import Counter


@dataclass(frozen=True)
class Prepared:
    """What will be sent, every part checked: nothing is recorded for a request that fails."""

    to: Mailbox | None
    reply_to: Mailbox | None
    subject: str
    text: str | None
    html: str | None
    template_key: str | None = None
    template_version: int | None = None


# What the locked decision leads to, acted on after the commit.
@dataclass(frozen=True)
class Done:
    pass


@dataclass(frozen=True)
class Later:
    code: MimicErrorCode
    message: str
    retry_after: float | None


@dataclass(frozen=True)
class Call:
    providers: Sequence[EmailProvider]
    seq: int
    """Journal entry of the first provider's call, written in the deciding transaction."""
    resumed: bool
    """Asking an idempotent provider again about an unanswered call: no failover after it."""
    unannounced: bool = False
    """`queued` and `send_started` are not published yet: the first settlement publishes them."""
    recorded: Mapping[str, Any] | None = None
    """The row as the fast first write recorded it: its settlement can be one statement."""


Plan = Done | Later | Call


def over(full: Counter) -> str:
    limit = full.limit
    return f"over the {limit.scope.value} limit of {limit.max_count} per {limit.window}"


def failure(code: MimicErrorCode, message: str, now: datetime) -> dict[str, Any]:
    return {
        "status": NotificationStatus.FAILED.value,
        "error_code": code.value,
        "error_message": message[:1000],
        "failed_at": now,
    }


def as_queued(row: Notification) -> NotificationV1:
    """The event of the queued state, for a row first written in a later one."""
    return queued_of(to_model(row))


def queued_of(model: NotificationV1) -> NotificationV1:
    """`as_queued` of a row already read into its model."""
    return model.model_copy(
        update={
            "status": NotificationStatus.QUEUED,
            "attempts": 0,
            "deferred_until": None,
            "error": None,
            "sending_at": None,
            "failed_at": None,
        }
    )


def as_sending(row: Notification) -> NotificationV1:
    """The event of the sending state, for a row that has moved on since."""
    return sending_of(to_model(row))


def sending_of(model: NotificationV1) -> NotificationV1:
    """`as_sending` of a row already read into its model."""
    return model.model_copy(
        update={
            "status": NotificationStatus.SENDING,
            "provider": None,
            "provider_message_id": None,
            "error": None,
            "sent_at": None,
            "delivered_at": None,
            "failed_at": None,
        }
    )


def request_hash(command: SendNotificationV1) -> str:
    canonical = json.dumps(command.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
