"""Every subject tentacle serves or publishes.

Other services use:

* `TASK_CREATE_RPC` (an immediate answer or a clear error) or `TASK_CREATE` (a JetStream command,
  for triggers, schedules and other services that must not lose the request); both create the
  same task for the same `request_id`;
* the task commands and queries below (`tentacle.v1.rpc.task.<verb>`);
* `TASK_PROGRESSED`, the lifecycle of every task (filter by org with
  `TASK_PROGRESSED.filter(org_id=...)`, by task, and by event kind with `kind=...`).
"""

from __future__ import annotations

from typing import Any, Final

from contracts.subject import Subject, command, event, rpc
from contracts.tentacle.checkpoints import (
    CheckpointListV1,
    CheckpointV1,
    ListCheckpointsV1,
    ListPreferencesV1,
    PreferenceListV1,
    PreferenceV1,
    RespondCheckpointV1,
    RevokePreferenceV1,
)
from contracts.tentacle.events import TaskEventListV1, TaskEventV1
from contracts.tentacle.models import (
    AdvanceTaskV1,
    CancelTaskV1,
    CapabilityListV1,
    CapabilityV1,
    CreateTaskV1,
    GetTaskV1,
    ListCapabilitiesV1,
    ListTaskEventsV1,
    ListTasksV1,
    PauseTaskV1,
    RegisterAgentV1,
    ResumeTaskV1,
    RetryTaskV1,
    SearchTasksV1,
    StepRunV1,
    SupersedeResultV1,
    SupersedeTaskV1,
    TaskCostV1,
    TaskDetailV1,
    TaskListV1,
    TaskRefV1,
    TaskV1,
)

SERVICE: Final = "tentacle"


def _task_rpc(verb: str, payload: type[Any], reply: type[Any], summary: str) -> Subject[Any, Any]:
    return rpc(SERVICE, "task", verb, payload, reply, summary=summary)


# ---------------------------------------------------------------------- task commands
TASK_CREATE_RPC = _task_rpc(
    "create", CreateTaskV1, TaskV1, "Create a task (idempotent by request_id); it plans and runs."
)
TASK_CREATE = command(
    SERVICE,
    "task",
    "create",
    CreateTaskV1,
    summary="Create a task from a trigger, a schedule or another service (idempotent).",
)
TASK_PAUSE = _task_rpc("pause", PauseTaskV1, TaskV1, "Stop dispatching steps until resumed.")
TASK_RESUME = _task_rpc("resume", ResumeTaskV1, TaskV1, "Carry on where the task was paused.")
TASK_CANCEL = _task_rpc("cancel", CancelTaskV1, TaskV1, "Stop the task for good.")
TASK_RETRY = _task_rpc(
    "retry", RetryTaskV1, TaskV1, "Run a failed task's failed steps again (or plan it again)."
)
TASK_SUPERSEDE = _task_rpc(
    "supersede",
    SupersedeTaskV1,
    SupersedeResultV1,
    "Give a running task a new goal: reject, enqueue, interrupt or rollback.",
)
TASK_RESPOND_CHECKPOINT = _task_rpc(
    "respond_checkpoint",
    RespondCheckpointV1,
    CheckpointV1,
    "Answer a pending checkpoint (approve, reject, input, modify, select, answers).",
)

# ---------------------------------------------------------------------- task queries
TASK_GET = _task_rpc("get", GetTaskV1, TaskDetailV1, "A task with its plan, steps, checkpoints.")
TASK_LIST = _task_rpc("list", ListTasksV1, TaskListV1, "The organisation's tasks, newest first.")
TASK_SEARCH = _task_rpc("search", SearchTasksV1, TaskListV1, "Full-text search over task goals.")
TASK_EVENTS = _task_rpc(
    "events", ListTaskEventsV1, TaskEventListV1, "A task's lifecycle log from a sequence number."
)
TASK_COST = _task_rpc(
    "cost", TaskRefV1, TaskCostV1, "What a task cost, by agent and step, as a call tree."
)

CHECKPOINT_LIST = rpc(
    SERVICE,
    "checkpoint",
    "list",
    ListCheckpointsV1,
    CheckpointListV1,
    summary="Pending checkpoints of the organisation.",
)
PREFERENCE_LIST = rpc(
    SERVICE,
    "preference",
    "list",
    ListPreferencesV1,
    PreferenceListV1,
    summary="The caller's learned approvals.",
)
PREFERENCE_REVOKE = rpc(
    SERVICE,
    "preference",
    "revoke",
    RevokePreferenceV1,
    PreferenceV1,
    summary="Stop auto-approving an operation kind for the caller.",
)
CAPABILITIES_LIST = rpc(
    SERVICE,
    "capabilities",
    "list",
    ListCapabilitiesV1,
    CapabilityListV1,
    summary="Agents the organisation can use, by kind, domain or free text.",
)
AGENT_REGISTER = rpc(
    SERVICE,
    "agent",
    "register",
    RegisterAgentV1,
    CapabilityV1,
    summary="Add or replace one of the organisation's own prompt-defined agents (YAML).",
)

# ---------------------------------------------------------------------- internal work
TASK_ADVANCE = command(
    SERVICE,
    "task",
    "advance",
    AdvanceTaskV1,
    summary="Run one orchestration cycle of a task (timers, resumes, recovery).",
)
STEP_RUN = command(
    SERVICE,
    "step",
    "run",
    StepRunV1,
    tokens=("agent_type",),
    summary="Run one attempt of one step on the agent workers of its type.",
)

# ---------------------------------------------------------------------- lifecycle
# The event's kind is a token so that a consumer of a few kinds (a task's end, say) has the
# server filter out the step events that make up most of the traffic.
TASK_PROGRESSED = event(
    SERVICE,
    "task",
    "progressed",
    TaskEventV1,
    tokens=("org_id", "task_id", "kind"),
    summary="Every transition and step event of a task, numbered 1..n per task.",
)
TASK_PROGRESSED_WITHOUT_KIND = event(
    SERVICE,
    "task",
    "progressed",
    TaskEventV1,
    tokens=("org_id", "task_id"),
    summary="The lifecycle subject before it carried the kind: no longer published.",
)
"""Earlier messages of `TASK_PROGRESSED` may still be in the stream in this shape; durable
consumers list it as a legacy subject so an upgrade neither skips nor dead-letters them. It is
not part of `ALL` (nothing is published on it)."""

ALL: tuple[Subject[Any, Any], ...] = (
    TASK_CREATE_RPC,
    TASK_CREATE,
    TASK_PAUSE,
    TASK_RESUME,
    TASK_CANCEL,
    TASK_RETRY,
    TASK_SUPERSEDE,
    TASK_RESPOND_CHECKPOINT,
    TASK_GET,
    TASK_LIST,
    TASK_SEARCH,
    TASK_EVENTS,
    TASK_COST,
    CHECKPOINT_LIST,
    PREFERENCE_LIST,
    PREFERENCE_REVOKE,
    CAPABILITIES_LIST,
    AGENT_REGISTER,
    TASK_ADVANCE,
    STEP_RUN,
    TASK_PROGRESSED,
)
