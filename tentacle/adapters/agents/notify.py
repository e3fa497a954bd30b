"""The notify agent: an email through Mimic's send command.

The command is not published by the agent: it is staged with the step's result and goes out in
the same transaction that records it, so a step that is redelivered, or whose result is
recorded twice by two replicas, still sends once. Mimic's idempotency key is the step attempt's
key too, so even a republished command is delivered once.
"""

from __future__ import annotations

from pydantic import ValidationError

from contracts.mimic import SEND, ContentV1, RecipientV1, SendNotificationV1, notification_id
from contracts.tentacle.errors import TentacleErrorCode
from shared.bus.codec import describe, encode
from shared.context import current_call, new_stamp, system_actor
from tentacle.domain.errors import TentacleError
from tentacle.service.ports import AgentResult, Effect, StagedEffect, StepWork

TOOL = "mimic.notification.send"


class NotifyRuntime:
    async def run(self, work: StepWork) -> AgentResult:
        inputs = work.inputs
        try:
            payload = SendNotificationV1(
                idempotency_key=work.idempotency_key,
                to=RecipientV1(address=inputs["to"], name=inputs.get("name")),
                content=ContentV1(subject=inputs["subject"], text=inputs["body"]),
                metadata={"task_id": work.task_id, "step_id": work.step_id},
            )
        except ValidationError as exc:
            raise TentacleError(
                TentacleErrorCode.AGENT_INPUT_INVALID, f"notify: {describe(exc)}"
            ) from None
        sent_id = notification_id(work.org_id, work.idempotency_key)
        stamp = new_stamp(
            "SendNotificationV1",
            org_id=work.org_id,
            message_id=sent_id,
            parent=current_call(),
            default_actor=system_actor("tentacle"),
        )
        result = {"notification_id": sent_id, "status": "queued", "to": inputs["to"]}
        effect = Effect(
            org_id=work.org_id,
            key=work.idempotency_key,
            task_id=work.task_id,
            step_id=work.step_id,
            plan_version=work.plan_version,
            attempt=work.attempt,
            tool=TOOL,
            call_id=stamp.call_id,
            parent_call_id=stamp.parent_call_id,
            root_call_id=stamp.root_call_id,
        )
        return AgentResult(
            output=result,
            staged=[
                StagedEffect(message=encode(SEND, payload, stamp), effect=effect, result=result)
            ],
        )
