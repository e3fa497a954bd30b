"""Fire the organisation's matching triggers for one event, each exactly once.

For every enabled trigger of the event's organisation whose source, integration, event type and
filter match, one transaction writes the fire row (unique per trigger and event) and stages the
task-create command in the outbox; the task's request id derives from the same pair. A second
replica, or a redelivery after a crash, finds the row and fires nothing more; if the command
were staged twice anyway, the derived request id makes it the same task.

Triggers fire for events that arrive after they were created: a trigger made now does not
react to an old event still being redelivered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.envelope import Actor, Meta
from contracts.mimic.models import IntegrationEventV1
from contracts.tentacle.events import TaskEventV1
from contracts.tentacle.models import CreateTaskV1, TaskConstraintsV1, task_id_for
from contracts.tentacle.subjects import TASK_CREATE
from contracts.tentacle.triggers import ResponseType, TriggerSource, TriggerV1
from shared.bus.codec import encode
from shared.context import new_stamp
from shared.crypto import Binding
from shared.logging import get_logger
from tentacle.adapters import trigger_store as store
from tentacle.adapters.pg import Tx
from tentacle.domain.triggers import (
    check_trigger,
    fire_request_id,
    integration_context,
    integration_document,
    task_finished_document,
)
from tentacle.service.deps import require_org
from tentacle.service.trigger_deps import TriggerDeps

log = get_logger(__name__)

REPLY_COLUMN = "reply_sealed"


def reply_binding(org_id: str, trigger_id: str, event_id: str) -> Binding:
    return Binding(org_id, "trigger_fires", f"{trigger_id}:{event_id}", REPLY_COLUMN)


async def fire_for_integration_event(
    deps: TriggerDeps, event: IntegrationEventV1, meta: Meta
) -> list[str]:
    """Fire every matching trigger; the ids of the tasks created now."""
    try:
        source = TriggerSource(event.provider)
    except ValueError:
        return []  # a provider no trigger can name
    org_id = require_org(meta)
    document = integration_document(event)
    created: list[str] = []
    async with deps.db.transaction(org_id=org_id) as tx:
        found = await store.candidates(
            tx.conn,
            source,
            integration_id=event.integration_id,
            event_type=event.event_type,
            created_before=event.received_at,
        )
        for trigger in found:
            if not check_trigger(trigger).matches(document):
                continue
            task_id = await _fire(
                deps,
                tx,
                trigger,
                event_id=event.event_id,
                context={"trigger_event": integration_context(event)},
                reply=event.reply.model_dump_json().encode() if event.reply else None,
                default_integration=event.integration_id,
                default_channel=event.channel_id,
            )
            if task_id is not None:
                created.append(task_id)
    return created


async def fire_for_task_event(deps: TriggerDeps, event: TaskEventV1) -> list[str]:
    """Fire `platform` triggers on a task that ended (not on tasks triggers started, which
    would let a trigger on finished tasks feed itself forever)."""
    document = task_finished_document(event)
    if document is None:
        return []
    created: list[str] = []
    async with deps.db.transaction(org_id=event.org_id) as tx:
        if await store.is_fired_task(tx.conn, event.task_id):
            return []
        found = await store.candidates(
            tx.conn,
            TriggerSource.PLATFORM,
            integration_id=None,
            event_type=document["event_type"],
            created_before=event.occurred_at,
        )
        for trigger in found:
            if not check_trigger(trigger).matches(document):
                continue
            task_id = await _fire(
                deps,
                tx,
                trigger,
                event_id=f"task-{event.task_id}-{event.seq}",
                context={"trigger_event": document},
                reply=None,
                default_integration=None,
                default_channel=None,
            )
            if task_id is not None:
                created.append(task_id)
    return created


async def _fire(
    deps: TriggerDeps,
    tx: Tx,
    trigger: TriggerV1,
    *,
    event_id: str,
    context: dict[str, Any],
    reply: bytes | None,
    default_integration: str | None,
    default_channel: str | None,
) -> str | None:
    org_id = trigger.org_id
    request_id = fire_request_id(trigger.trigger_id, event_id)
    task_id = task_id_for(org_id, request_id)
    sealed = None
    if reply is not None and trigger.response_type is not ResponseType.NONE:
        sealed = deps.keyring.encrypt(reply, reply_binding(org_id, trigger.trigger_id, event_id))
    now: datetime = deps.clock()
    fired = await store.record_fire(
        tx.conn,
        trigger,
        event_id=event_id,
        task_id=task_id,
        response_integration_id=trigger.response_integration_id or default_integration,
        response_channel_id=trigger.response_channel_id or default_channel,
        reply_sealed=sealed,
        at=now,
    )
    if not fired:
        log.info("trigger.already_fired", trigger_id=trigger.trigger_id, event_id=event_id)
        return None
    request = CreateTaskV1(
        request_id=request_id,
        goal=trigger.goal,
        # Nobody watches a triggered task start: its checkpoints wait for the trigger's owner.
        constraints=TaskConstraintsV1(notes=f"Started by trigger {trigger.trigger_id}."),
        context=context,
    )
    stamp = new_stamp(
        "CreateTaskV1",
        org_id=org_id,
        actor=_owner(trigger),
        message_id=request_id,
        default_actor=_owner(trigger),
    )
    tx.publish(encode(TASK_CREATE, request, stamp))
    log.info("trigger.fired", trigger_id=trigger.trigger_id, event_id=event_id, task_id=task_id)
    return task_id


def _owner(trigger: TriggerV1) -> Actor:
    """Whose task a fire creates: the trigger's creator's (it shows in their inbox)."""
    return trigger.created_by
