"""Contracts of tentacle.

Orchestration: tasks, plans, steps, agents, checkpoints, budgets, triggers, schedules, workspace
objects and memory. Callers use the task RPCs and `TASK_CREATE`; everyone may follow
`TASK_PROGRESSED`, the lifecycle of every task.
"""

from __future__ import annotations

from contracts.platform.health import health_subject
from contracts.tentacle.chat import CHAT_CONSUMERS, CHAT_STREAMS, CHAT_SUBJECTS
from contracts.tentacle.checkpoints import (
    ApprovalResponseV1,
    CheckpointResponseV1,
    CheckpointStatus,
    CheckpointV1,
    DefaultAction,
    InputResponseV1,
    ModifyResponseV1,
    QaResponseV1,
    RespondCheckpointV1,
    SelectResponseV1,
)
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.events import TaskEventKind, TaskEventV1
from contracts.tentacle.models import (
    CreateTaskV1,
    StepStatus,
    SupersedePolicy,
    TaskConstraintsV1,
    TaskDetailV1,
    TaskStatus,
    TaskV1,
    TerminalReason,
    task_id_for,
)
from contracts.tentacle.plans import (
    CheckpointType,
    FailurePolicy,
    PlanStepV1,
    PlanV1,
    Risk,
)
from contracts.tentacle.schedules import SCHEDULE_CONSUMERS, SCHEDULE_SUBJECTS
from contracts.tentacle.streams import ALL_CONSUMERS, ALL_STREAMS
from contracts.tentacle.subjects import (
    ALL,
    SERVICE,
    TASK_CREATE,
    TASK_CREATE_RPC,
    TASK_GET,
    TASK_PROGRESSED,
    TASK_RESPOND_CHECKPOINT,
)
from contracts.tentacle.triggers import TRIGGER_CONSUMERS, TRIGGER_SUBJECTS
from contracts.tentacle.workspace import (
    WORKSPACE_CONSUMERS,
    WORKSPACE_STREAMS,
    WORKSPACE_SUBJECTS,
)

HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH, *ALL, *WORKSPACE_SUBJECTS)
STREAMS = (*ALL_STREAMS, *WORKSPACE_STREAMS)
CONSUMERS = (*ALL_CONSUMERS, *TRIGGER_CONSUMERS, *WORKSPACE_CONSUMERS)
# Triggered and scheduled tasks.
SUBJECTS = (*SUBJECTS, *TRIGGER_SUBJECTS, *SCHEDULE_SUBJECTS)

__all__ = [
    "CONSUMERS",
    "HEALTH",
    "SERVICE",
    "STREAMS",
    "SUBJECTS",
    "TASK_CREATE",
    "TASK_CREATE_RPC",
    "TASK_GET",
    "TASK_PROGRESSED",
    "TASK_RESPOND_CHECKPOINT",
    "ApprovalResponseV1",
    "CheckpointResponseV1",
    "CheckpointStatus",
    "CheckpointType",
    "CheckpointV1",
    "CreateTaskV1",
    "DefaultAction",
    "FailurePolicy",
    "InputResponseV1",
    "ModifyResponseV1",
    "PlanStepV1",
    "PlanV1",
    "QaResponseV1",
    "RespondCheckpointV1",
    "Risk",
    "SelectResponseV1",
    "StepStatus",
    "SupersedePolicy",
    "TaskConstraintsV1",
    "TaskDetailV1",
    "TaskEventKind",
    "TaskEventV1",
    "TaskStatus",
    "TaskV1",
    "TentacleErrorCode",
    "TerminalReason",
    "task_id_for",
]

# Flux, the conversational agent (chat.py).
SUBJECTS = (*SUBJECTS, *CHAT_SUBJECTS)
STREAMS = (*STREAMS, *CHAT_STREAMS)
CONSUMERS = (*CONSUMERS, *CHAT_CONSUMERS)

# Schedules keep the org's time zone (schedules.py).
CONSUMERS = (*CONSUMERS, *SCHEDULE_CONSUMERS)
