"""The messages an orchestration cycle stages in the outbox, with their places in the call tree.

Steps are children of the task's call (not of whichever work item happened to dispatch them),
so the tree reads task -> steps -> model and tool calls. Lifecycle events and step work items
get deterministic message ids: staging the same one twice can never publish it twice.
"""

from __future__ import annotations

from contracts.envelope import Actor
from contracts.tentacle.events import TaskEventV1
from contracts.tentacle.models import AdvanceReason, AdvanceTaskV1, StepRunV1
from contracts.tentacle.subjects import STEP_RUN, TASK_ADVANCE, TASK_PROGRESSED
from shared.bus.codec import OutboundMessage, encode
from shared.context import CallContext, Stamp, new_stamp, system_actor
from tentacle.domain.cycle import Dispatch, NewEvent
from tentacle.domain.state import TaskState

SYSTEM = system_actor("tentacle")


def task_call(state: TaskState) -> CallContext:
    return CallContext(state.call_id, state.root_call_id, state.org_id, state.created_by)


def event_model(state: TaskState, seq: int, event: NewEvent) -> TaskEventV1:
    return TaskEventV1(
        org_id=state.org_id,
        task_id=state.task_id,
        seq=seq,
        kind=event.kind,
        status=event.status,
        conversation_id=state.conversation_id,
        parent_task_id=state.parent_task_id,
        occurred_at=event.at,
        detail=event.detail,
    )


def event_message(event: TaskEventV1, *, actor: Actor | None = None) -> OutboundMessage:
    stamp = new_stamp(
        "TaskEventV1",
        org_id=event.org_id,
        actor=actor,
        message_id=f"evt-{event.task_id}-{event.seq}",
        default_actor=SYSTEM,
    )
    return encode(TASK_PROGRESSED, event, stamp)


def payload_json(message: OutboundMessage) -> str:
    """The payload part of an encoded envelope (`{"meta":...,"data":<payload>}`), so an
    event is serialised once for both the outbox and the lifecycle log. The meta holds only
    ids, names and times, none of which can contain the separator."""
    body = message.body
    return body[body.index(b',"data":') + 8 : -1].decode()


def step_message(
    state: TaskState, job: Dispatch, pool: str, *, task_version: int
) -> tuple[Stamp, OutboundMessage]:
    payload = StepRunV1(
        task_id=state.task_id,
        step_id=job.step_id,
        plan_version=job.plan_version,
        attempt=job.attempt,
        agent=job.agent,
        agent_type=pool,
        idempotency_key=idempotency_key(state.task_id, job.step_id, job.plan_version, job.attempt),
        inputs=job.inputs,
        task_version=task_version,
    )
    stamp = new_stamp(
        "StepRunV1",
        org_id=state.org_id,
        message_id=f"run-{state.task_id}-{job.step_id}-{job.plan_version}-{job.attempt}",
        parent=task_call(state),
        default_actor=SYSTEM,
    )
    return stamp, encode(STEP_RUN, payload, stamp)


def undo_message(state: TaskState, job: Dispatch, pool: str) -> OutboundMessage:
    """Undo what a completed step did (a rollback): once, under its own idempotency key."""
    key = idempotency_key(state.task_id, job.step_id, job.plan_version, job.attempt) + ":undo"
    payload = StepRunV1(
        task_id=state.task_id,
        step_id=job.step_id,
        plan_version=job.plan_version,
        attempt=job.attempt,
        agent=job.agent,
        agent_type=pool,
        idempotency_key=key,
        inputs=job.inputs,
        undo=True,
    )
    stamp = new_stamp(
        "StepRunV1",
        org_id=state.org_id,
        message_id=f"undo-{state.task_id}-{job.step_id}-{job.plan_version}",
        parent=task_call(state),
        default_actor=SYSTEM,
    )
    return encode(STEP_RUN, payload, stamp)


def advance_message(state: TaskState, reason: AdvanceReason) -> OutboundMessage:
    stamp = new_stamp(
        "AdvanceTaskV1", org_id=state.org_id, parent=task_call(state), default_actor=SYSTEM
    )
    return encode(TASK_ADVANCE, AdvanceTaskV1(task_id=state.task_id, reason=reason), stamp)


def timer_message(task_id: str, org_id: str) -> OutboundMessage:
    """An advance from the timer sweep: checkpoint expiry, deadlines, lost work items."""
    stamp = new_stamp("AdvanceTaskV1", org_id=org_id, default_actor=SYSTEM)
    payload = AdvanceTaskV1(task_id=task_id, reason=AdvanceReason.TIMER)
    return encode(TASK_ADVANCE, payload, stamp)


def idempotency_key(task_id: str, step_id: str, plan_version: int, attempt: int) -> str:
    """One key per attempt of a step: every redelivery of the attempt shares it, a retry or a
    replan gets a new one."""
    return f"{task_id}:{step_id}:{plan_version}:{attempt}"
