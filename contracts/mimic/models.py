"""Message models of mimic. Frozen, versioned in the class name; see `subjects.py` for where
each one travels.

Notifications: a caller sends `SendNotificationV1` (a command); mimic answers with
`NotificationV1` snapshots as events, one per status change. Integrations: webhooks that
integrators post become `IntegrationEventV1` events; `ExecuteActionV1` commands act on the
outside world and end in `ActionResultV1` events.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, JsonValue, StringConstraints, model_validator

from contracts.envelope import ErrorV1
from contracts.ids import OrgId, SubjectToken
from contracts.model import ContractModel

_ID_NAMESPACE = uuid.UUID("5b0f4c1e-7a53-4f3e-9d0a-6d696d696301")

IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,200}$")]
"""1-200 printable ASCII characters without spaces; chosen by the caller, unique per org."""

TemplateKey = Annotated[str, StringConstraints(pattern=r"^(system\.)?[a-z][a-z0-9_-]{0,63}$")]
"""An organisation's template (`welcome`) or a built-in one (`system.verify_email`)."""

OrgTemplateKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]

VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]

Metadata = Annotated[
    dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")], str],
    Field(max_length=20, description="Caller's labels (e.g. task_id), echoed in every event."),
]


def notification_id(org_id: str, idempotency_key: str) -> str:
    """The id mimic gives the notification sent with this key, known to the caller in advance
    (so it can subscribe to `mimic.v1.evt.notification.{org}.{id}.>` before sending)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"notification\x00{org_id}\x00{idempotency_key}"))


def action_id(org_id: str, idempotency_key: str) -> str:
    """The id of the outbound action executed with this key (see `notification_id`)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"action\x00{org_id}\x00{idempotency_key}"))


# ====================================================================== notifications
class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class Priority(StrEnum):
    HIGH = "high"
    """Time-critical (OTP, password reset): refused rather than deferred when over a limit."""
    NORMAL = "normal"
    LOW = "low"


class NotificationStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    FAILED = "failed"


class RecipientV1(ContractModel):
    address: str = Field(
        min_length=3,
        max_length=320,
        description="Email address for email; phone number (E.164) for SMS; device token for push.",
    )
    name: str | None = Field(default=None, max_length=200, description="Display name.")


class TemplateRefV1(ContractModel):
    key: TemplateKey
    version: int | None = Field(default=None, ge=1, description="None: the latest version.")


class ContentV1(ContractModel):
    """Content written by the caller, sent exactly as given: never rendered as a template."""

    subject: str = Field(min_length=1, max_length=998)
    text: str | None = Field(default=None, max_length=500_000)
    html: str | None = Field(default=None, max_length=1_000_000)

    @model_validator(mode="after")
    def _has_body(self) -> Self:
        if not self.text and not self.html:
            raise ValueError("content needs a text or an html body")
        return self


class SendNotificationV1(ContractModel):
    """Send one notification to one recipient. The org is the envelope's `meta.org_id`.

    Exactly one of `template` (rendered with `variables`, which must match its declared schema)
    or `content` (sent verbatim). The same `idempotency_key` sends once; reusing it with a
    different request is `mimic.idempotency_conflict`.
    """

    idempotency_key: IdempotencyKey
    channel: Channel = Channel.EMAIL
    to: RecipientV1
    template: TemplateRefV1 | None = None
    content: ContentV1 | None = None
    variables: dict[VariableName, JsonValue] = Field(default_factory=dict, max_length=100)
    priority: Priority = Priority.NORMAL
    reply_to: str | None = Field(default=None, max_length=320)
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _template_or_content(self) -> Self:
        if (self.template is None) == (self.content is None):
            raise ValueError("give exactly one of template or content")
        if self.content is not None and self.variables:
            raise ValueError("variables go with a template; content is sent as written")
        return self


class NotificationV1(ContractModel):
    """A notification as it stands: the payload of every status event and of lookups."""

    notification_id: SubjectToken
    org_id: OrgId
    idempotency_key: str
    channel: Channel
    recipient: str
    priority: Priority
    status: NotificationStatus
    template: TemplateRefV1 | None = Field(
        default=None, description="The template with its version pinned at queue time."
    )
    subject: str | None = None
    provider: str | None = None
    provider_message_id: str | None = None
    attempts: int = 0
    error: ErrorV1 | None = None
    deferred_until: datetime | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    queued_at: datetime
    sending_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    bounced_at: datetime | None = None
    failed_at: datetime | None = None
    updated_at: datetime


class GetNotificationV1(ContractModel):
    notification_id: SubjectToken | None = None
    idempotency_key: IdempotencyKey | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.notification_id is None) == (self.idempotency_key is None):
            raise ValueError("give exactly one of notification_id or idempotency_key")
        return self


class ListNotificationsV1(ContractModel):
    status: NotificationStatus | None = None
    recipient: str | None = Field(default=None, max_length=320)
    before: datetime | None = Field(default=None, description="Only those queued earlier.")
    limit: int = Field(default=50, ge=1, le=500)


class NotificationListV1(ContractModel):
    notifications: list[NotificationV1]


# ====================================================================== templates
class VariableType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    URL = "url"
    EMAIL = "email"


class VariableSpecV1(ContractModel):
    type: VariableType = VariableType.STRING
    required: bool = True
    max_length: int | None = Field(default=None, ge=1, le=100_000)
    description: str = Field(default="", max_length=500)


class TemplateV1(ContractModel):
    key: TemplateKey
    version: int
    subject: str
    text: str | None = None
    html: str | None = None
    variables: dict[str, VariableSpecV1]
    description: str = ""
    system: bool = Field(default=False, description="Built into mimic; cannot be changed.")
    created_at: datetime | None = None


class SaveTemplateV1(ContractModel):
    """Save a new version of an organisation's template (versions are immutable)."""

    key: OrgTemplateKey
    subject: str = Field(min_length=1, max_length=2_000)
    text: str | None = Field(default=None, max_length=100_000)
    html: str | None = Field(default=None, max_length=200_000)
    variables: dict[VariableName, VariableSpecV1] = Field(default_factory=dict, max_length=100)
    description: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _has_body(self) -> Self:
        if not self.text and not self.html:
            raise ValueError("a template needs a text or an html part")
        return self


class GetTemplateV1(ContractModel):
    key: TemplateKey
    version: int | None = Field(default=None, ge=1)


class ListTemplatesV1(ContractModel):
    include_system: bool = True


class TemplateListV1(ContractModel):
    templates: list[TemplateV1]


class PreviewTemplateV1(ContractModel):
    template: TemplateRefV1
    variables: dict[VariableName, JsonValue] = Field(default_factory=dict, max_length=100)


class RenderedV1(ContractModel):
    subject: str
    text: str | None = None
    html: str | None = None


# ====================================================================== integrations
class IntegrationProvider(StrEnum):
    DISCORD = "discord"
    SLACK = "slack"
    GITHUB = "github"
    STRIPE = "stripe"
    WEBHOOK = "webhook"
    """A custom webhook: HMAC-signed inbound posts, and posts out to a URL."""


class IntegrationStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DiscordSettingsV1(ContractModel):
    provider: Literal["discord"] = "discord"
    application_id: str = Field(pattern=r"^[0-9]{5,25}$")
    public_key: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="The application's Ed25519 key (hex)."
    )
    bot_token: str | None = Field(default=None, max_length=200, repr=False)
    webhook_url: str | None = Field(
        default=None, max_length=500, repr=False, description="Secret: the URL holds a token."
    )
    default_channel_id: str | None = Field(default=None, pattern=r"^[0-9]{5,25}$")


class SlackSettingsV1(ContractModel):
    provider: Literal["slack"] = "slack"
    signing_secret: str = Field(min_length=8, max_length=200, repr=False)
    bot_token: str | None = Field(default=None, max_length=200, repr=False)
    webhook_url: str | None = Field(default=None, max_length=500, repr=False)
    default_channel: str | None = Field(default=None, max_length=100)


class GitHubSettingsV1(ContractModel):
    provider: Literal["github"] = "github"
    webhook_secret: str = Field(min_length=8, max_length=200, repr=False)
    token: str | None = Field(default=None, max_length=300, repr=False)
    default_repository: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$"
    )
    api_base_url: str | None = Field(
        default=None, max_length=300, description="GitHub Enterprise; api.github.com if unset."
    )


class StripeSettingsV1(ContractModel):
    provider: Literal["stripe"] = "stripe"
    webhook_secret: str = Field(min_length=8, max_length=200, repr=False)


class WebhookSettingsV1(ContractModel):
    provider: Literal["webhook"] = "webhook"
    signing_secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        repr=False,
        description="HMAC key of inbound posts; generated (and returned once) when unset.",
    )
    outbound_url: str | None = Field(default=None, max_length=2_000, repr=False)


IntegrationSettingsV1 = Annotated[
    DiscordSettingsV1 | SlackSettingsV1 | GitHubSettingsV1 | StripeSettingsV1 | WebhookSettingsV1,
    Field(discriminator="provider"),
]


class CreateIntegrationV1(ContractModel):
    name: str = Field(min_length=1, max_length=100)
    settings: IntegrationSettingsV1


class IntegrationV1(ContractModel):
    integration_id: SubjectToken
    provider: IntegrationProvider
    name: str
    status: IntegrationStatus
    ingress_path: str = Field(description="Where the integrator posts: <mimic's URL><path>.")
    ingress_url: str | None = Field(
        default=None,
        description="The whole URL to give the provider (MIMIC_PUBLIC_URL + ingress_path); "
        "None when the operator has not said where mimic is reachable from outside.",
    )
    settings: dict[str, str] = Field(description="The settings that are not secret.")
    secrets_set: list[str] = Field(description="Names of the secrets held (values never leave).")
    generated_secret: str | None = Field(
        default=None, repr=False, description="Only in the reply to create, when mimic made it."
    )
    created_at: datetime


class GetIntegrationV1(ContractModel):
    integration_id: SubjectToken


class ListIntegrationsV1(ContractModel):
    provider: IntegrationProvider | None = None
    include_disabled: bool = False


class IntegrationListV1(ContractModel):
    integrations: list[IntegrationV1]


class DisableIntegrationV1(ContractModel):
    integration_id: SubjectToken


class ExternalActorV1(ContractModel):
    """Who did it, in the provider's terms (a Discord or Slack user, a GitHub sender)."""

    id: str = Field(
        description="The provider's user id (Discord snowflake, Slack U..., GitHub id)."
    )
    name: str | None = Field(default=None, description="Username or login, when the body has one.")


class ReplyHandleV1(ContractModel):
    """How to answer an interaction later (Discord follow-up, Slack response_url).

    Pass it back unchanged in an `ExecuteActionV1` with a `ReplyInteractionV1` action. It holds
    a short-lived credential (Discord: 15 minutes; Slack: 30 minutes, 5 uses): do not log it.
    """

    kind: Literal["discord_interaction", "slack_response_url"]
    application_id: str | None = None
    token: str | None = Field(default=None, repr=False)
    url: str | None = Field(default=None, repr=False)


class IntegrationEventV1(ContractModel):
    """Something an integrated service told us, in one shape whatever the provider.

    Published on `mimic.v1.evt.webhook.{org_id}.{provider}.{integration_id}.{event_type}.received`
    (stream MIMIC_WEBHOOKS, limits retention, 7 days) once the webhook's signature was verified
    and its delivery id was not seen before. Consumers pick events with a filter subject, e.g.
    `WEBHOOK_RECEIVED.filter(org_id=..., provider="discord")` for one organisation's Discord
    events, and keep their own durable consumer on the stream. Each verified delivery is
    published once (its `Nats-Msg-Id` derives from integration and delivery id, and replays are
    refused at the door); consumers still de-duplicate by `event_id` since redelivery to them is
    at-least-once. The envelope's actor is `{kind: integration, id: integration_id}`.

    `event_type` per provider (always a subject token: lower case, `[a-z0-9_-]`, <= 64 chars):

    * github: `X-GitHub-Event` and the body's `action` joined by `_` (`issues_opened`,
      `pull_request_closed`, `push`, `issue_comment_created`). `ping` is answered, not published.
    * stripe: the event type with dots as underscores (`invoice_paid`,
      `customer_subscription_deleted`); `delivery_id` is the Stripe event id.
    * slack: Events API `event.type` and `event.subtype` (`message`, `app_mention`,
      `message_channel_join`); `slash_command` for slash commands (`command` holds its name
      without the slash, `text` its arguments); interactivity payloads by their type
      (`block_actions`, `view_submission`). `url_verification` is answered, not published.
    * discord: the interaction type (`application_command`, `message_component`,
      `modal_submit`, `application_command_autocomplete`); `command` holds the command name
      (or a component's custom_id), `options` its options by name. Mimic has already answered
      Discord with a deferred response: whoever reacts has 15 minutes to send a
      `reply_interaction` action with `reply`. PING is answered, not published.
    * webhook (custom): the `X-Fluxos-Event` header, else the body's `type`, else `message`.

    Anything else the provider sent is in `payload`, verbatim.
    """

    event_id: SubjectToken = Field(description="Mimic's id of this event (unique).")
    integration_id: SubjectToken
    provider: SubjectToken = Field(description="discord, slack, github, stripe or webhook.")
    event_type: SubjectToken = Field(
        description="The provider's event type as a token: issues_opened, invoice_paid, ..."
    )
    delivery_id: str = Field(description="The provider's id of this delivery (replay key).")
    received_at: datetime
    occurred_at: datetime | None = Field(
        default=None, description="When the provider says it happened (Stripe, Slack)."
    )
    actor: ExternalActorV1 | None = None
    channel_id: str | None = Field(
        default=None, description="Discord/Slack channel, GitHub repository (owner/name)."
    )
    text: str | None = Field(
        default=None,
        description="The human text: message, slash command arguments, issue or PR title, "
        "commit message, Discord option values (at most 10,000 characters).",
    )
    command: str | None = Field(default=None, description="Slash command name, if one.")
    options: dict[str, JsonValue] = Field(
        default_factory=dict, description="Discord command options by name."
    )
    reply: ReplyHandleV1 | None = Field(
        default=None, description="Set for Discord interactions and Slack commands/actions."
    )
    payload: dict[str, JsonValue] = Field(description="The provider's body, as JSON.")


# ---------------------------------------------------------------------- outbound actions
class EmbedFieldV1(ContractModel):
    name: str = Field(min_length=1, max_length=256)
    value: str = Field(min_length=1, max_length=1024)
    inline: bool = False


class SendMessageV1(ContractModel):
    type: Literal["send_message"] = "send_message"
    text: str = Field(min_length=1, max_length=40_000)
    channel_id: str | None = Field(default=None, max_length=100)


class SendEmbedV1(ContractModel):
    type: Literal["send_embed"] = "send_embed"
    title: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=4096)
    url: str | None = Field(default=None, max_length=2_000)
    color: int | None = Field(default=None, ge=0, le=0xFFFFFF)
    fields: list[EmbedFieldV1] = Field(default_factory=list, max_length=25)
    footer: str | None = Field(default=None, max_length=2048)
    text: str | None = Field(default=None, max_length=2000)
    channel_id: str | None = Field(default=None, max_length=100)


class CreateIssueV1(ContractModel):
    type: Literal["create_issue"] = "create_issue"
    repository: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$"
    )
    title: str = Field(min_length=1, max_length=256)
    body: str | None = Field(default=None, max_length=65_536)
    labels: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20
    )


class PostWebhookV1(ContractModel):
    type: Literal["post_webhook"] = "post_webhook"
    event: str = Field(default="message", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    payload: dict[str, JsonValue]


class ReplyInteractionV1(ContractModel):
    type: Literal["reply_interaction"] = "reply_interaction"
    reply: ReplyHandleV1
    text: str = Field(min_length=1, max_length=4000)


ActionV1 = Annotated[
    SendMessageV1 | SendEmbedV1 | CreateIssueV1 | PostWebhookV1 | ReplyInteractionV1,
    Field(discriminator="type"),
]


class ExecuteActionV1(ContractModel):
    """Act on an integrated service. Name the integration, or only its provider when the
    organisation has exactly one active integration of it."""

    idempotency_key: IdempotencyKey
    integration_id: SubjectToken | None = None
    provider: IntegrationProvider | None = None
    action: ActionV1
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _target(self) -> Self:
        if self.integration_id is None and self.provider is None:
            raise ValueError("name the integration_id or the provider")
        return self


class ActionStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"


class ActionResultV1(ContractModel):
    action_id: SubjectToken
    idempotency_key: str
    integration_id: SubjectToken | None = None
    provider: IntegrationProvider | None = None
    action_type: str
    status: ActionStatus
    result: dict[str, JsonValue] = Field(default_factory=dict, description="e.g. message_id, url.")
    error: ErrorV1 | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    requested_at: datetime
    completed_at: datetime
