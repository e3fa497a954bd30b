"""Every subject mimic serves or publishes.

Other services use two commands: `SEND` (InkPass for verification, reset, OTP and invitation
emails; Tentacle for task notifications) and `ACTION_EXECUTE` (post to Discord, Slack, GitHub or a
webhook). Results come back as events keyed by an id the caller can compute in advance
(`notification_id(org, key)`, `action_id(org, key)`).
"""

from __future__ import annotations

from typing import Any

from contracts.mimic.models import (
    ActionResultV1,
    CreateIntegrationV1,
    DisableIntegrationV1,
    ExecuteActionV1,
    GetIntegrationV1,
    GetNotificationV1,
    GetTemplateV1,
    IntegrationEventV1,
    IntegrationListV1,
    IntegrationV1,
    ListIntegrationsV1,
    ListNotificationsV1,
    ListTemplatesV1,
    NotificationListV1,
    NotificationV1,
    PreviewTemplateV1,
    RenderedV1,
    SaveTemplateV1,
    SendNotificationV1,
    TemplateListV1,
    TemplateV1,
)
from contracts.subject import Subject, command, event, rpc

SERVICE = "mimic"

# ---------------------------------------------------------------------- notifications
SEND = command(
    SERVICE,
    "notification",
    "send",
    SendNotificationV1,
    summary="Send one notification (email now; SMS and push later) from a template or content.",
)

_NOTIFICATION_TOKENS = ("org_id", "notification_id")


def _status_event(verb: str, summary: str) -> Subject[NotificationV1, None]:
    return event(
        SERVICE, "notification", verb, NotificationV1, tokens=_NOTIFICATION_TOKENS, summary=summary
    )


NOTIFICATION_QUEUED = _status_event("queued", "Accepted and recorded; about to be sent.")
NOTIFICATION_DEFERRED = _status_event(
    "deferred", "Over a rate limit: still queued, retried at deferred_until."
)
NOTIFICATION_SEND_STARTED = _status_event("send_started", "Handed to a provider (status sending).")
NOTIFICATION_SENT = _status_event("sent", "The provider accepted it.")
NOTIFICATION_DELIVERED = _status_event("delivered", "The recipient's server accepted it.")
NOTIFICATION_BOUNCED = _status_event("bounced", "The recipient's server refused it.")
NOTIFICATION_FAILED = _status_event("failed", "Given up on; `error` says why.")

NOTIFICATION_EVENTS = (
    NOTIFICATION_QUEUED,
    NOTIFICATION_DEFERRED,
    NOTIFICATION_SEND_STARTED,
    NOTIFICATION_SENT,
    NOTIFICATION_DELIVERED,
    NOTIFICATION_BOUNCED,
    NOTIFICATION_FAILED,
)

NOTIFICATION_GET = rpc(
    SERVICE,
    "notification",
    "get",
    GetNotificationV1,
    NotificationV1,
    summary="One notification of the caller's organisation, by id or idempotency key.",
)
NOTIFICATION_LIST = rpc(
    SERVICE,
    "notification",
    "list",
    ListNotificationsV1,
    NotificationListV1,
    summary="The organisation's delivery log, newest first.",
)

# ---------------------------------------------------------------------- templates
TEMPLATE_SAVE = rpc(
    SERVICE,
    "template",
    "save",
    SaveTemplateV1,
    TemplateV1,
    summary="Check and store a new version of an organisation's template.",
)
TEMPLATE_GET = rpc(
    SERVICE,
    "template",
    "get",
    GetTemplateV1,
    TemplateV1,
    summary="A template (the organisation's or a built-in one).",
)
TEMPLATE_LIST = rpc(
    SERVICE,
    "template",
    "list",
    ListTemplatesV1,
    TemplateListV1,
    summary="The latest version of every template the organisation can use.",
)
TEMPLATE_PREVIEW = rpc(
    SERVICE,
    "template",
    "preview",
    PreviewTemplateV1,
    RenderedV1,
    summary="Render a template with variables, without sending anything.",
)

# ---------------------------------------------------------------------- integrations
INTEGRATION_CREATE = rpc(
    SERVICE,
    "integration",
    "create",
    CreateIntegrationV1,
    IntegrationV1,
    summary="Connect Discord, Slack, GitHub, Stripe or a custom webhook; secrets are encrypted.",
)
INTEGRATION_GET = rpc(
    SERVICE,
    "integration",
    "get",
    GetIntegrationV1,
    IntegrationV1,
    summary="One integration (never its secrets).",
)
INTEGRATION_LIST = rpc(
    SERVICE,
    "integration",
    "list",
    ListIntegrationsV1,
    IntegrationListV1,
    summary="The organisation's integrations, optionally of one provider.",
)
INTEGRATION_DISABLE = rpc(
    SERVICE,
    "integration",
    "disable",
    DisableIntegrationV1,
    IntegrationV1,
    summary="Stop an integration: its ingress path stops answering, actions are refused.",
)

WEBHOOK_RECEIVED = event(
    SERVICE,
    "webhook",
    "received",
    IntegrationEventV1,
    tokens=("org_id", "provider", "integration_id", "event_type"),
    summary="A verified inbound webhook, mapped to the standard event shape.",
)

ACTION_EXECUTE = command(
    SERVICE,
    "action",
    "execute",
    ExecuteActionV1,
    summary="Send a message or embed, create an issue, post to a webhook, answer an interaction.",
)
_ACTION_TOKENS = ("org_id", "action_id")
ACTION_COMPLETED = event(
    SERVICE,
    "action",
    "completed",
    ActionResultV1,
    tokens=_ACTION_TOKENS,
    summary="The provider accepted the action; `result` holds its ids.",
)
ACTION_FAILED = event(
    SERVICE,
    "action",
    "failed",
    ActionResultV1,
    tokens=_ACTION_TOKENS,
    summary="The action was refused or could not be carried out.",
)

ALL: tuple[Subject[Any, Any], ...] = (
    SEND,
    *NOTIFICATION_EVENTS,
    NOTIFICATION_GET,
    NOTIFICATION_LIST,
    TEMPLATE_SAVE,
    TEMPLATE_GET,
    TEMPLATE_LIST,
    TEMPLATE_PREVIEW,
    INTEGRATION_CREATE,
    INTEGRATION_GET,
    INTEGRATION_LIST,
    INTEGRATION_DISABLE,
    WEBHOOK_RECEIVED,
    ACTION_EXECUTE,
    ACTION_COMPLETED,
    ACTION_FAILED,
)
