"""Fire the organisation's matching triggers for one event, each exactly once.

For every enabled trigger of the event's organisation whose source, integration, event type and
filter match, one transaction writes the fire row (unique per trigger and event) and stages the
task-create command in the outbox; the task's request id derives from the same pair. A second
replica, or a redelivery after a crash, finds the row and fires nothing more; if the command
were staged twice anyway, the derived request id makes it the same task.

Triggers fire for events that arrive after they were created: a trigger made now does not
react to an old event still being redelivered. A fired task starts an execution tree of its
own, and events from inside such a tree (the task ending, objects it changed) fire nothing, so
triggers cannot feed themselves or each other forever.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from contracts.envelope import Meta
from contracts.mimic.models import (
    ActionV1,
    ExecuteActionV1,
    IntegrationEventV1,
    PostWebhookV1,
    SendMessageV1,
)
from contracts.mimic.subjects import ACTION_EXECUTE
from contracts.tentacle.events import TaskEventV1
from contracts.tentacle.models import CreateTaskV1, TaskConstraintsV1, task_id_for
from contracts.tentacle.objects import ObjectChangedV1
from contracts.tentacle.subjects import TASK_CREATE
from contracts.tentacle.triggers import (
    CallbackKind,
    CallbackV1,
    ResponseType,
    TriggerSource,
    TriggerV1,
)
from shared.bus.codec import encode
from shared.context import CallContext, new_stamp
from shared.crypto import Binding
from shared.errors import PermanentError
from shared.logging import get_logger
from tentacle.adapters import trigger_store as store
from tentacle.adapters.pg import Conn, Tx
from tentacle.domain.triggers import (
    check_trigger,
    fire_request_id,
    integration_context,
    integration_document,
    object_document,
    render,
    task_finished_document,
)
from tentacle.service.deps import require_org
from tentacle.service.trigger_deps import TriggerDeps

log = get_logger(__name__)

REPLY_COLUMN = "reply_sealed"
_CALLBACK_NAMESPACE: Final = uuid.UUID("c4f1b0d2-8a3e-4f57-b6a1-63616c6c6261")


def reply_binding(org_id: str, trigger_id: str, event_id: str) -> Binding:
    return Binding(org_id, "trigger_fires", f"{trigger_id}:{event_id}", REPLY_COLUMN)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One event as the triggers see it."""

    org_id: str
    source: TriggerSource
    event_id: str
    event_type: str
    document: dict[str, Any]
    context: dict[str, Any]
    at: datetime
    root_call_id: str
    integration_id: str | None = None
    channel_id: str | None = None
    reply: bytes | None = None
    task_id: str | None = None
    """The task that ended, for task events (a fired task's end fires nothing)."""


async def fire_for_integration_event(
    deps: TriggerDeps, event: IntegrationEventV1, meta: Meta
) -> list[str]:
    """Fire every matching trigger; the ids of the tasks created now."""
    try:
        source = TriggerSource(event.provider)
    except ValueError:
        return []  # a provider no trigger can name
    if source is TriggerSource.PLATFORM:
        return []
    return await fire(
        deps,
        Occurrence(
            org_id=require_org(meta),
            source=source,
            event_id=event.event_id,
            event_type=event.event_type,
            document=integration_document(event),
            context={"trigger_event": integration_context(event)},
            at=event.received_at,
            root_call_id=meta.root_call_id,
            integration_id=event.integration_id,
            channel_id=event.channel_id,
            reply=event.reply.model_dump_json().encode() if event.reply else None,
        ),
    )


async def fire_for_task_event(deps: TriggerDeps, event: TaskEventV1, meta: Meta) -> list[str]:
    """Fire `platform` triggers on a task that ended."""
    document = task_finished_document(event)
    if document is None:
        return []
    return await fire(
        deps,
        Occurrence(
            org_id=event.org_id,
            source=TriggerSource.PLATFORM,
            event_id=f"task-{event.task_id}-{event.seq}",
            event_type=document["event_type"],
            document=document,
            context={"trigger_event": document},
            at=event.occurred_at,
            root_call_id=meta.root_call_id,
            task_id=event.task_id,
        ),
    )


async def fire_for_object_event(deps: TriggerDeps, event: ObjectChangedV1, meta: Meta) -> list[str]:
    """Fire `platform` triggers on a workspace object that changed."""
    document = object_document(event)
    return await fire(
        deps,
        Occurrence(
            org_id=event.org_id,
            source=TriggerSource.PLATFORM,
            event_id=f"object-{event.object_id}-{event.version}-{event.change.value}",
            event_type=document["event_type"],
            document=document,
            context={"trigger_event": document},
            at=event.object.updated_at,
            root_call_id=meta.root_call_id,
        ),
    )


async def fire(deps: TriggerDeps, occurrence: Occurrence) -> list[str]:
    # Most events (every task that ends, every object written) match no trigger at all: one
    # autocommit read says so, rather than a transaction of four round trips.
    async with deps.db.statement(org_id=occurrence.org_id) as peek:
        if not await _candidates(peek.conn, occurrence):
            return []
    created: list[str] = []
    async with deps.db.transaction(org_id=occurrence.org_id) as tx:
        if await store.is_fired_tree(tx.conn, occurrence.root_call_id) or (
            occurrence.task_id is not None
            and await store.is_fired_task(tx.conn, occurrence.task_id)
        ):
            return []  # caused by a fired task: reacting could loop forever
        found = await _candidates(tx.conn, occurrence)
        for trigger in found:
            if not check_trigger(trigger).matches(occurrence.document):
                continue
            task_id = await _fire(deps, tx, trigger, occurrence)
            if task_id is not None:
                created.append(task_id)
    return created


async def _candidates(conn: Conn, occurrence: Occurrence) -> list[TriggerV1]:
    return await store.candidates(
        conn,
        occurrence.source,
        integration_id=occurrence.integration_id,
        event_type=occurrence.event_type,
        created_before=occurrence.at,
    )


async def _fire(
    deps: TriggerDeps, tx: Tx, trigger: TriggerV1, occurrence: Occurrence
) -> str | None:
    org_id, event_id = trigger.org_id, occurrence.event_id
    if trigger.callback is not None:
        await _route(deps, tx, trigger, trigger.callback, occurrence)
        return None  # no task: the action is the whole answer
    request_id = fire_request_id(trigger.trigger_id, event_id)
    task_id = task_id_for(org_id, request_id)
    sealed = None
    if occurrence.reply is not None and trigger.response_type is not ResponseType.NONE:
        binding = reply_binding(org_id, trigger.trigger_id, event_id)
        try:
            sealed = deps.keyring.encrypt(occurrence.reply, binding)
        except PermanentError:  # no key configured: answer in the channel instead
            log.warning("trigger.reply_not_kept", trigger_id=trigger.trigger_id, exc_info=True)
    # The task's own execution tree, whose root the fire remembers (see the module's note).
    tree = CallContext.root(actor=trigger.created_by, org_id=org_id)
    fired = await store.record_fire(
        tx.conn,
        trigger,
        event_id=event_id,
        task_id=task_id,
        response_integration_id=trigger.response_integration_id or occurrence.integration_id,
        response_channel_id=trigger.response_channel_id or occurrence.channel_id,
        reply_sealed=sealed,
        at=deps.clock(),
        root_call_id=tree.root_call_id,
    )
    if not fired:
        log.info("trigger.already_fired", trigger_id=trigger.trigger_id, event_id=event_id)
        return None
    assert trigger.goal is not None  # checked: a goal or a callback
    request = CreateTaskV1(
        request_id=request_id,
        goal=trigger.goal,
        constraints=TaskConstraintsV1(notes=f"Started by trigger {trigger.trigger_id}."),
        context=occurrence.context,
    )
    # The trigger's creator owns the task: it shows in their inbox, their checkpoints.
    stamp = new_stamp(
        "CreateTaskV1",
        org_id=org_id,
        message_id=request_id,
        parent=tree,
        default_actor=trigger.created_by,
    )
    tx.publish(encode(TASK_CREATE, request, stamp))
    log.info("trigger.fired", trigger_id=trigger.trigger_id, event_id=event_id, task_id=task_id)
    return task_id


def callback_key(trigger_id: str, event_id: str) -> str:
    """The idempotency key of a callback's action (mimic's `action_id` derives from it)."""
    return f"trigger-callback:{trigger_id}:{event_id}"


async def _route(
    deps: TriggerDeps, tx: Tx, trigger: TriggerV1, callback: CallbackV1, occurrence: Occurrence
) -> None:
    """Carry out a callback: mimic's action command, staged with the fire row."""
    fired = await store.record_fire(
        tx.conn,
        trigger,
        event_id=occurrence.event_id,
        task_id=None,
        response_integration_id=None,
        response_channel_id=None,
        reply_sealed=None,
        at=deps.clock(),
    )
    if not fired:
        return
    text = render(callback.text, occurrence.document) if callback.text else None
    action: ActionV1
    if callback.kind is CallbackKind.MESSAGE:
        assert text is not None  # checked: a message callback has its text
        # A template naming only absent fields renders empty; mimic refuses an empty message.
        action = SendMessageV1(
            text=text or "(empty)", channel_id=callback.channel_id or occurrence.channel_id
        )
    else:
        action = PostWebhookV1(
            event=occurrence.event_type,
            payload={
                "trigger_id": trigger.trigger_id,
                "event_id": occurrence.event_id,
                "text": text,
                "event": occurrence.document,
            },
        )
    key = callback_key(trigger.trigger_id, occurrence.event_id)
    command = ExecuteActionV1(
        idempotency_key=key,
        integration_id=callback.integration_id,
        action=action,
        metadata={"trigger_id": trigger.trigger_id},
    )
    stamp = new_stamp(
        "ExecuteActionV1",
        org_id=trigger.org_id,
        message_id="cb-" + str(uuid.uuid5(_CALLBACK_NAMESPACE, key)),
        default_actor=trigger.created_by,
    )
    tx.publish(encode(ACTION_EXECUTE, command, stamp))
    log.info("trigger.routed", trigger_id=trigger.trigger_id, event_id=occurrence.event_id)
