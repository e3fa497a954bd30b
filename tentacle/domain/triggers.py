"""Rules of triggers: what makes one coherent, what an event looks like to its filter, which
task a fire creates and what its answer says. Pure: no database, no bus."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, Final

from pydantic import JsonValue

from contracts.mimic.models import IntegrationEventV1
from contracts.tentacle.events import (
    CancelledDetailV1,
    CompletedDetailV1,
    FailedDetailV1,
    TaskEventKind,
    TaskEventV1,
)
from contracts.tentacle.objects import ObjectChangedV1
from contracts.tentacle.trigger_errors import TriggerErrorCode
from contracts.tentacle.triggers import (
    TASK_FINISHED_KINDS,
    CallbackKind,
    CallbackV1,
    ResponseType,
    TriggerSource,
    TriggerV1,
)
from tentacle.domain.trigger_errors import TriggerError
from tentacle.domain.trigger_filters import (
    ALIASES,
    MISSING,
    EventFilter,
    check_field,
    lookup,
    parse_filter,
)

_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z0-9_.-]{1,200})\}")
_FIRE_NAMESPACE: Final = uuid.UUID("8e4b8f0a-5f0e-4c59-a0f6-7472696767e5")
MAX_ANSWER: Final = 1900
"""Characters of a task's answer sent back (Discord refuses messages over 2000)."""

FINISHED: Final[dict[TaskEventKind, str]] = {k: f"task_{k.value}" for k in TASK_FINISHED_KINDS}
"""Lifecycle events that end a task, by the event type platform triggers see (task_completed,
task_failed, task_cancelled): the kinds the trigger consumer's filter lets through."""


def check_trigger(trigger: TriggerV1) -> EventFilter:
    """The trigger's parsed filter, or a coded error saying what does not hang together."""
    source, response = trigger.trigger_source, trigger.response_type
    if (trigger.goal is None) == (trigger.callback is None):
        raise _incoherent("give exactly one of goal (run a task) or callback (route the event)")
    if trigger.callback is not None:
        if response is not ResponseType.NONE:
            raise _incoherent("a callback answers nothing: response_type must be none")
        _check_callback(trigger.callback, source)
    if source is TriggerSource.PLATFORM and trigger.integration_id is not None:
        raise _incoherent("platform events come from no integration: leave integration_id unset")
    if response is ResponseType.DISCORD_FOLLOWUP and source is not TriggerSource.DISCORD:
        raise _incoherent("a Discord follow-up answers Discord events only")
    if (
        response is ResponseType.SLACK_MESSAGE
        and source is not TriggerSource.SLACK
        and (trigger.response_integration_id is None or trigger.response_channel_id is None)
    ):
        raise _incoherent(
            "a Slack message for events of another source needs response_integration_id "
            "and response_channel_id"
        )
    if (
        response is ResponseType.WEBHOOK
        and source is not TriggerSource.WEBHOOK
        and trigger.response_integration_id is None
    ):
        raise _incoherent(
            "a webhook answer to events of another source needs "
            "response_integration_id (a custom webhook integration)"
        )
    return parse_filter(trigger.event_filter, source)


def _check_callback(callback: CallbackV1, source: TriggerSource) -> None:
    if callback.kind is CallbackKind.MESSAGE and callback.text is None:
        raise _incoherent("a message callback needs its text")
    for field in _PLACEHOLDER.findall(callback.text or ""):
        try:
            check_field(ALIASES.get(field, field), source)
        except TriggerError as exc:
            raise _incoherent(f"callback text: {exc}") from None


def render(template: str, document: Mapping[str, Any]) -> str:
    """`template` with each `{field}` replaced by the event's value (empty if it has none)."""

    def value(match: re.Match[str]) -> str:
        found = lookup(document, tuple(ALIASES.get(match[1], match[1]).split(".")))
        if found is None or found is MISSING:
            return ""
        return found if isinstance(found, str) else json.dumps(found, ensure_ascii=False)

    return _PLACEHOLDER.sub(value, template)


def _incoherent(message: str) -> TriggerError:
    return TriggerError(TriggerErrorCode.TRIGGER_INVALID, message)


def fire_request_id(trigger_id: str, event_id: str) -> str:
    """The task request id of one (trigger, event): every replica and redelivery agrees."""
    return "trg-" + str(uuid.uuid5(_FIRE_NAMESPACE, f"{trigger_id}\x00{event_id}"))


# ---------------------------------------------------------------------- events as documents
def integration_document(event: IntegrationEventV1) -> dict[str, Any]:
    """What a filter sees of an integration event (never its reply credential)."""
    return {
        "event_type": event.event_type,
        "provider": event.provider,
        "command": event.command,
        "text": event.text,
        "channel_id": event.channel_id,
        "actor": event.actor.model_dump(mode="json") if event.actor is not None else None,
        "options": event.options,
        "payload": event.payload,
    }


def integration_context(event: IntegrationEventV1) -> dict[str, JsonValue]:
    """What the fired task is given about its event: the human parts, not the raw body (it
    can be large) nor the reply handle (a credential steps must not see)."""
    return {
        "provider": event.provider,
        "integration_id": event.integration_id,
        "event_type": event.event_type,
        "event_id": event.event_id,
        "command": event.command,
        "text": event.text,
        "channel_id": event.channel_id,
        "actor": event.actor.model_dump(mode="json") if event.actor is not None else None,
        "options": event.options,
        "received_at": event.received_at.isoformat(),
    }


def task_finished_document(event: TaskEventV1) -> dict[str, Any] | None:
    """The platform event of a task that ended, or None if this lifecycle event is not one."""
    event_type = FINISHED.get(event.kind)
    if event_type is None:
        return None
    doc: dict[str, Any] = {
        "event_type": event_type,
        "task_id": event.task_id,
        "status": event.status.value,
        "summary": None,
        "reason": None,
    }
    detail = event.detail
    if isinstance(detail, CompletedDetailV1):
        doc["summary"] = detail.summary
    elif isinstance(detail, FailedDetailV1):
        doc["reason"] = detail.reason.value
    elif isinstance(detail, CancelledDetailV1):
        doc["reason"] = detail.reason
    return doc


def object_document(event: ObjectChangedV1) -> dict[str, Any]:
    """The platform event of a workspace object that changed."""
    return {
        "event_type": f"object_{event.change.value}",
        "change": event.change.value,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.object.data,
    }


# ---------------------------------------------------------------------- answers
def answer_text(event: TaskEventV1) -> str:
    """What goes back to the place the event came from once its task ended."""
    detail = event.detail
    if isinstance(detail, CompletedDetailV1):
        text = detail.summary or _text_of(detail.result) or "Done."
    elif isinstance(detail, FailedDetailV1):
        text = f"Sorry, that did not work: {detail.error.message}"
    elif isinstance(detail, CancelledDetailV1):
        text = "The task was cancelled."
    else:
        text = f"The task ended ({event.status.value})."
    text = text.strip() or "Done."
    return text if len(text) <= MAX_ANSWER else text[: MAX_ANSWER - 1] + "…"


def _text_of(result: JsonValue) -> str:
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        for key in ("text", "summary", "answer", "content", "message"):
            value = result.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return json.dumps(result, ensure_ascii=False)[:MAX_ANSWER]
