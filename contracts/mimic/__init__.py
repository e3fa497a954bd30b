"""Contracts of mimic.

Notifications and integrations: templates, providers, delivery tracking, inbound webhooks, outbound
actions. Services that send use `SEND` (and `ACTION_EXECUTE`), nothing else.
"""

from __future__ import annotations

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    Channel,
    ContentV1,
    ExecuteActionV1,
    NotificationStatus,
    NotificationV1,
    Priority,
    RecipientV1,
    SendNotificationV1,
    TemplateRefV1,
    action_id,
    notification_id,
)
from contracts.mimic.streams import ALL_CONSUMERS, ALL_STREAMS
from contracts.mimic.subjects import ACTION_EXECUTE, ALL, SEND, SERVICE
from contracts.platform.health import health_subject

HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH, *ALL)
STREAMS = ALL_STREAMS
CONSUMERS = ALL_CONSUMERS

__all__ = [
    "ACTION_EXECUTE",
    "CONSUMERS",
    "HEALTH",
    "SEND",
    "SERVICE",
    "STREAMS",
    "SUBJECTS",
    "Channel",
    "ContentV1",
    "ExecuteActionV1",
    "MimicErrorCode",
    "NotificationStatus",
    "NotificationV1",
    "Priority",
    "RecipientV1",
    "SendNotificationV1",
    "TemplateRefV1",
    "action_id",
    "notification_id",
]
