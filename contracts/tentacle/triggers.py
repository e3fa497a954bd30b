"""Triggered tasks: a goal that runs as a new task whenever a matching event arrives.

Events come from integrations (mimic's verified webhooks: a Discord slash command, a Slack
message, a GitHub issue, a Stripe event, a custom webhook) or from inside the platform (a task
finished, a workspace object changed). A trigger names its `source` (and optionally one
integration and one event type) and a declarative `event_filter`; every enabled trigger of the
event's organisation whose filter matches fires once for that event, however many replicas
consume it and however often it is redelivered. The task's result goes back according to
`response_type` once it finishes.

The filter is a JSON object of conditions on the event's fields, all of which must hold:

* `{"command": "ping"}`: equality;
* `{"channel_id": ["123", "456"]}`: one of a set;
* `{"text": {"$contains": "deploy"}}`: an operator, one of `$eq $ne $in $nin $gt $gte $lt $lte
  $contains $starts_with $exists`.

Fields of integration events: `event_type`, `command`, `text`, `channel_id` (also as `channel`
or `repository`: GitHub events carry the repository there), `actor.id`, `actor.name`,
`options.<name>`, `payload.<path>`. Platform events: `event_type` (`task_completed`,
`task_failed`, `task_cancelled`, `object_created`, `object_updated`, `object_deleted`),
`task_id`, `goal`, `status`, `reason`, `summary`, `object_type`, `object_id`, `data.<path>`.
A filter naming another field, or an unknown operator, is refused at creation
(`tentacle.trigger_filter_invalid`).

Declarative routing: a trigger with a `callback` instead of a `goal` carries the matching event
straight to an outbound action (a message from a template, or the event posted to a webhook),
once per event, without planning a task.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import Field, JsonValue, StringConstraints

from contracts.envelope import Actor
from contracts.ids import OrgId, SubjectToken
from contracts.mimic.streams import WEBHOOKS
from contracts.mimic.subjects import WEBHOOK_RECEIVED
from contracts.model import ContractModel
from contracts.streams import Consumer, DeliverPolicy
from contracts.subject import Subject, rpc
from contracts.tentacle.events import TaskEventKind
from contracts.tentacle.objects import (
    OBJECT_CREATED,
    OBJECT_DELETED,
    OBJECT_EVENTS_STREAM,
    OBJECT_UPDATED,
    ObjectChangedV1,
)
from contracts.tentacle.streams import EVENTS, PATIENT_BACKOFF
from contracts.tentacle.subjects import SERVICE, TASK_PROGRESSED, TASK_PROGRESSED_WITHOUT_KIND

EventType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
Goal = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ChannelId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class TriggerSource(StrEnum):
    DISCORD = "discord"
    SLACK = "slack"
    GITHUB = "github"
    STRIPE = "stripe"
    WEBHOOK = "webhook"
    """A custom webhook integration."""
    PLATFORM = "platform"
    """Events of the platform itself: tasks finishing, workspace objects changing."""


class ResponseType(StrEnum):
    DISCORD_FOLLOWUP = "discord_followup"
    """Answer the Discord interaction that fired it (or post in its channel if it was none)."""
    SLACK_MESSAGE = "slack_message"
    """Post in the Slack channel of the event (or `response_channel_id`)."""
    WEBHOOK = "webhook"
    """Post the result to a custom webhook integration's outbound URL."""
    NONE = "none"


class CallbackKind(StrEnum):
    MESSAGE = "message"
    """Post `text` to a Discord or Slack channel (or a custom webhook's receiver)."""
    WEBHOOK = "webhook"
    """Post the event itself (and `text`, if given) to a custom webhook integration."""


class CallbackV1(ContractModel):
    """Declarative routing: act at once on a matching event, without planning a task.

    `text` is a template whose `{field}` placeholders are the filter's fields of the event
    (`{text}`, `{actor.name}`, `{options.target}`, `{payload.issue.title}`); a field the event
    lacks renders empty. Sent through mimic's outbound action, once per event.
    """

    kind: CallbackKind
    integration_id: SubjectToken = Field(description="The integration that carries it out.")
    channel_id: ChannelId | None = Field(
        default=None, description="Where a message goes (default: the event's channel)."
    )
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None


class CreateTriggerV1(ContractModel):
    """Create a triggered task (the `create_triggered_task` tool): a `goal` run as a task on
    each matching event, or a `callback` carried out at once (declarative routing)."""

    goal: Goal | None = Field(
        default=None, description="What the task does each time, e.g. 'Tell a programming joke'."
    )
    callback: CallbackV1 | None = Field(
        default=None, description="Instead of a goal: route the event straight to an action."
    )
    trigger_source: TriggerSource
    integration_id: SubjectToken | None = Field(
        default=None,
        description="Only events of this integration; any of the source's integrations if unset. "
        "Not for platform events.",
    )
    event_type: EventType | None = Field(
        default=None, description="Only events of this type (application_command, issues_opened)."
    )
    event_filter: dict[str, JsonValue] = Field(
        default_factory=dict, description='Conditions on the event, e.g. {"command": "ping"}.'
    )
    response_type: ResponseType = ResponseType.NONE
    response_integration_id: SubjectToken | None = Field(
        default=None,
        description="Where the answer goes when not to the event's own integration (required "
        "for webhook responses to events of another source).",
    )
    response_channel_id: ChannelId | None = Field(
        default=None, description="Slack or Discord channel of the answer, if not the event's."
    )
    name: Name | None = None
    enabled: bool = True


Clearable = Literal[
    "name", "goal", "callback", "event_type", "response_integration_id", "response_channel_id"
]


class UpdateTriggerV1(ContractModel):
    """Change a trigger; fields left null keep their value, those named in `clear` are unset.
    The result is validated like a new trigger."""

    trigger_id: SubjectToken
    goal: Goal | None = None
    callback: CallbackV1 | None = None
    event_type: EventType | None = None
    event_filter: dict[str, JsonValue] | None = None
    response_type: ResponseType | None = None
    response_integration_id: SubjectToken | None = None
    response_channel_id: ChannelId | None = None
    name: Name | None = None
    clear: list[Clearable] = Field(default_factory=list, max_length=6)
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse (`tentacle.trigger_invalid`) if not current."
    )


class TriggerRefV1(ContractModel):
    trigger_id: SubjectToken


class ListTriggersV1(ContractModel):
    trigger_source: TriggerSource | None = None
    include_disabled: bool = True
    limit: int = Field(default=100, ge=1, le=500)


class TriggerV1(ContractModel):
    trigger_id: SubjectToken
    org_id: OrgId
    name: str | None = None
    goal: str | None = None
    callback: CallbackV1 | None = None
    trigger_source: TriggerSource
    integration_id: str | None = None
    event_type: str | None = None
    event_filter: dict[str, JsonValue]
    response_type: ResponseType
    response_integration_id: str | None = None
    response_channel_id: str | None = None
    enabled: bool
    version: int
    fire_count: int = 0
    last_fired_at: datetime | None = None
    created_by: Actor
    created_at: datetime
    updated_at: datetime


class TriggerListV1(ContractModel):
    triggers: list[TriggerV1]


class TriggerDeletedV1(ContractModel):
    trigger_id: SubjectToken


def _trigger_rpc(
    verb: str, payload: type[Any], reply: type[Any], summary: str
) -> Subject[Any, Any]:
    return rpc(SERVICE, "trigger", verb, payload, reply, summary=summary)


TRIGGER_CREATE = _trigger_rpc(
    "create", CreateTriggerV1, TriggerV1, "Create a triggered task (its filter is checked)."
)
TRIGGER_GET = _trigger_rpc("get", TriggerRefV1, TriggerV1, "One trigger of the organisation.")
TRIGGER_LIST = _trigger_rpc(
    "list", ListTriggersV1, TriggerListV1, "The organisation's triggers, newest first."
)
TRIGGER_UPDATE = _trigger_rpc(
    "update", UpdateTriggerV1, TriggerV1, "Change a trigger's goal, filter or response."
)
TRIGGER_ENABLE = _trigger_rpc("enable", TriggerRefV1, TriggerV1, "Let a trigger fire again.")
TRIGGER_DISABLE = _trigger_rpc(
    "disable", TriggerRefV1, TriggerV1, "Stop a trigger firing (events meanwhile are not kept)."
)
TRIGGER_DELETE = _trigger_rpc(
    "delete", TriggerRefV1, TriggerDeletedV1, "Delete a trigger; tasks it started carry on."
)

TRIGGER_SUBJECTS: tuple[Subject[Any, Any], ...] = (
    TRIGGER_CREATE,
    TRIGGER_GET,
    TRIGGER_LIST,
    TRIGGER_UPDATE,
    TRIGGER_ENABLE,
    TRIGGER_DISABLE,
    TRIGGER_DELETE,
)

# New events only: a trigger fires for what arrives after it exists, so the first start of the
# consumer must not replay the streams' history into freshly created triggers.
INTEGRATION_EVENTS_CONSUMER: Final = Consumer(
    durable="tentacle-trigger-integrations",
    service=SERVICE,
    stream=WEBHOOKS,
    subject=WEBHOOK_RECEIVED,
    description="Fire triggers on verified inbound webhooks (Discord, Slack, GitHub, ...).",
    ack_wait=timedelta(seconds=15),
    max_deliver=6,
    backoff=PATIENT_BACKOFF,
    jitter=0.2,
    concurrency=32,
    deliver_policy=DeliverPolicy.NEW,
)

TASK_FINISHED_KINDS: Final = (
    TaskEventKind.COMPLETED,
    TaskEventKind.FAILED,
    TaskEventKind.CANCELLED,
)
"""The lifecycle events that answer a triggered task and fire task-finished triggers."""

TASK_EVENTS_CONSUMER: Final = Consumer(
    durable="tentacle-trigger-task-events",
    service=SERVICE,
    stream=EVENTS,
    subject=TASK_PROGRESSED,
    # Only the events that end a task answer or fire anything: the server holds back the rest.
    filter_choices=(("kind", tuple(k.value for k in TASK_FINISHED_KINDS)),),
    legacy_subjects=(TASK_PROGRESSED_WITHOUT_KIND,),
    description="Answer triggered tasks' events when they finish; fire task-finished triggers.",
    ack_wait=timedelta(seconds=15),
    max_deliver=6,
    backoff=PATIENT_BACKOFF,
    jitter=0.2,
    max_ack_pending=2_000,
    concurrency=64,
    deliver_policy=DeliverPolicy.NEW,
)


def _object_consumer(subject: Subject[ObjectChangedV1, None]) -> Consumer[ObjectChangedV1]:
    return Consumer(
        durable=f"tentacle-trigger-objects-{subject.verb}",
        service=SERVICE,
        stream=OBJECT_EVENTS_STREAM,
        subject=subject,
        description=f"Fire platform triggers on workspace objects {subject.verb}.",
        ack_wait=timedelta(seconds=15),
        max_deliver=6,
        backoff=PATIENT_BACKOFF,
        jitter=0.2,
        concurrency=32,
        deliver_policy=DeliverPolicy.NEW,
    )


OBJECT_EVENTS_CONSUMERS: Final = tuple(
    _object_consumer(s) for s in (OBJECT_CREATED, OBJECT_UPDATED, OBJECT_DELETED)
)

TRIGGER_CONSUMERS: tuple[Consumer[Any], ...] = (
    INTEGRATION_EVENTS_CONSUMER,
    TASK_EVENTS_CONSUMER,
    *OBJECT_EVENTS_CONSUMERS,
)
