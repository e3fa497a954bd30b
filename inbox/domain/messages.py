"""What a task lifecycle event says in a conversation: a message, or only progress.

Step completed, step failed, checkpoint requested and the task's end each become a message from
the agent that produced them; every other event only moves the task's live progress.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from typing import Final

from pydantic import JsonValue

from contracts.tentacle.events import (
    CancelledDetailV1,
    CheckpointRequestedDetailV1,
    CompletedDetailV1,
    FailedDetailV1,
    StepCompletedDetailV1,
    StepFailedDetailV1,
    TaskEventV1,
)

ORCHESTRATOR: Final = "task_orchestrator"
"""The agent id of messages about the task as a whole."""

CHAT_AGENT: Final = "inbox_chat"

_NAMESPACE: Final = uuid.UUID("5b0e7f3e-6a0c-4c4e-9d8e-696e626f7831")


class MessageKind:
    TEXT = "text"
    STEP_COMPLETED = "step_completed"
    STEP_FAILED = "step_failed"
    CHECKPOINT = "checkpoint"
    TASK_COMPLETED = "task_completed"
    TASK_FAILED = "task_failed"
    TASK_CANCELLED = "task_cancelled"


@dataclass(frozen=True)
class MessageDraft:
    kind: str
    agent_id: str
    body: str
    data: dict[str, JsonValue] = field(default_factory=dict)
    checkpoint_id: str | None = None


def money(amount: Decimal) -> str:
    """One spelling per amount (0 and 0.0 alike), so a replayed copy stores the same text."""
    return format(amount.normalize(), "f")


def order_key(event: TaskEventV1) -> str:
    """Orders messages by time, then by place in their task: the latest one is the preview."""
    at = event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return f"{at}|{event.seq:010d}|{event.task_id}"


def conversation_of(event: TaskEventV1) -> str:
    """A task started outside any conversation gets one of its own, named after the task."""
    return event.conversation_id or event.task_id


def message_id_for(org_id: str, task_id: str, seq: int) -> str:
    """The same event always makes the same message id, so a replay rebuilds the same thread."""
    return str(uuid.uuid5(_NAMESPACE, f"{org_id}\x00{task_id}\x00{seq}"))


def message_for(event: TaskEventV1) -> MessageDraft | None:
    detail = event.detail
    if isinstance(detail, StepCompletedDetailV1):
        return MessageDraft(
            kind=MessageKind.STEP_COMPLETED,
            agent_id=detail.agent,
            body=detail.preview or f"Step {detail.step_id} completed.",
            data={"step_id": detail.step_id, "attempt": detail.attempt},
        )
    if isinstance(detail, StepFailedDetailV1):
        suffix = " The task carries on." if detail.tolerated else ""
        return MessageDraft(
            kind=MessageKind.STEP_FAILED,
            agent_id=detail.agent,
            body=f"Step {detail.step_id} failed: {detail.error.message}{suffix}",
            data={
                "step_id": detail.step_id,
                "attempt": detail.attempt,
                "code": detail.error.code,
                "tolerated": detail.tolerated,
            },
        )
    if isinstance(detail, CheckpointRequestedDetailV1):
        cp = detail.checkpoint
        return MessageDraft(
            kind=MessageKind.CHECKPOINT,
            agent_id=cp.agent,
            body=cp.message or cp.title,
            data={"checkpoint": cp.model_dump(mode="json")},
            checkpoint_id=cp.checkpoint_id,
        )
    if isinstance(detail, CompletedDetailV1):
        return MessageDraft(
            kind=MessageKind.TASK_COMPLETED,
            agent_id=ORCHESTRATOR,
            body=detail.summary or "The task is complete.",
            data={"result": detail.result, "cost_usd": money(detail.cost_usd)},
        )
    if isinstance(detail, FailedDetailV1):
        return MessageDraft(
            kind=MessageKind.TASK_FAILED,
            agent_id=ORCHESTRATOR,
            body=f"The task failed: {detail.error.message}",
            data={"reason": detail.reason.value, "code": detail.error.code},
        )
    if isinstance(detail, CancelledDetailV1):
        return MessageDraft(
            kind=MessageKind.TASK_CANCELLED,
            agent_id=ORCHESTRATOR,
            body="The task was cancelled." + (f" {detail.reason}" if detail.reason else ""),
            data={"by": detail.by.model_dump(mode="json")},
        )
    return None
