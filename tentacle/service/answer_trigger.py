"""Send a triggered task's answer back where its event came from, once the task ends.

The answer is mimic's outbound action command, staged in the outbox in the transaction that
marks the fire answered (the fire row is locked meanwhile), and keyed by the fire: mimic's own
idempotency by that key makes even a republished command act once.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from contracts.mimic.models import (
    ActionV1,
    ExecuteActionV1,
    PostWebhookV1,
    ReplyHandleV1,
    ReplyInteractionV1,
    SendMessageV1,
)
from contracts.mimic.subjects import ACTION_EXECUTE
from contracts.tentacle.events import TaskEventV1
from contracts.tentacle.triggers import ResponseType
from shared.bus.codec import encode
from shared.context import new_stamp, system_actor
from shared.errors import PermanentError
from shared.logging import get_logger
from tentacle.adapters import trigger_store as store
from tentacle.domain.triggers import FINISHED, answer_text
from tentacle.service.fire_trigger import reply_binding
from tentacle.service.trigger_deps import TriggerDeps

log = get_logger(__name__)

_NAMESPACE: Final = uuid.UUID("2b8a3a4e-6f1d-4f0b-8d55-616e73776572")
SYSTEM = system_actor("tentacle")


def answer_key(trigger_id: str, event_id: str) -> str:
    """The idempotency key of a fire's answer (mimic's `action_id` derives from it)."""
    return f"trigger-answer:{trigger_id}:{event_id}"


async def answer_fired_task(deps: TriggerDeps, event: TaskEventV1) -> bool:
    """Whether an answer was staged now for the task this lifecycle event ended."""
    if event.kind not in FINISHED:
        return False
    # Most tasks were not started by a trigger: one autocommit read says so, without locking.
    async with deps.db.statement(org_id=event.org_id) as peek:
        if not await store.is_fired_task(peek.conn, event.task_id):
            return False
    async with deps.db.transaction(org_id=event.org_id) as tx:
        fire = await store.fire_of_task(tx.conn, event.task_id)
        if fire is None or fire["responded_at"] is not None:
            return False
        response = ResponseType(fire["response_type"])
        if response is ResponseType.NONE:
            return False
        action = _action(deps, event, fire, response)
        if action is None or fire["response_integration_id"] is None:
            log.warning("trigger.answer_undeliverable", task_id=event.task_id)
            await store.mark_answered(
                tx.conn, fire["trigger_id"], fire["event_id"], at=deps.clock()
            )
            return False
        key = answer_key(fire["trigger_id"], fire["event_id"])
        command = ExecuteActionV1(
            idempotency_key=key,
            integration_id=fire["response_integration_id"],
            action=action,
            metadata={"task_id": event.task_id, "trigger_id": fire["trigger_id"]},
        )
        stamp = new_stamp(
            "ExecuteActionV1",
            org_id=event.org_id,
            message_id="ans-" + str(uuid.uuid5(_NAMESPACE, key)),
            default_actor=SYSTEM,
        )
        tx.publish(encode(ACTION_EXECUTE, command, stamp))
        await store.mark_answered(tx.conn, fire["trigger_id"], fire["event_id"], at=deps.clock())
    log.info("trigger.answered", task_id=event.task_id, response=response.value)
    return True


def _action(
    deps: TriggerDeps, event: TaskEventV1, fire: Any, response: ResponseType
) -> ActionV1 | None:
    text = answer_text(event)
    channel = fire["response_channel_id"]
    if response is ResponseType.DISCORD_FOLLOWUP:
        sealed = fire["reply_sealed"]
        if sealed is not None:
            binding = reply_binding(event.org_id, fire["trigger_id"], fire["event_id"])
            try:
                handle = deps.keyring.decrypt(bytes(sealed), binding)
            except PermanentError:  # the key is gone or the row was moved: use the channel
                log.warning("trigger.reply_unreadable", task_id=event.task_id, exc_info=True)
            else:
                reply = ReplyHandleV1.model_validate_json(handle)
                return ReplyInteractionV1(reply=reply, text=text)
        return SendMessageV1(text=text, channel_id=channel) if channel else None
    if response is ResponseType.SLACK_MESSAGE:
        return SendMessageV1(text=text, channel_id=channel) if channel else None
    payload: dict[str, Any] = {
        "task_id": event.task_id,
        "status": event.status.value,
        "text": text,
        "trigger_id": fire["trigger_id"],
        "event_id": fire["event_id"],
    }
    return PostWebhookV1(event="task_finished", payload=payload)
