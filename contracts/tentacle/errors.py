"""Stable error codes of tentacle: what a reply, a dead letter or a failed task carries."""

from __future__ import annotations

from enum import StrEnum


class TentacleErrorCode(StrEnum):
    # ------------------------------------------------------------------ requests and commands
    ORG_REQUIRED = "tentacle.org_required"
    """The message names no organisation; every task belongs to one."""
    TASK_NOT_FOUND = "tentacle.task_not_found"
    """No such task in this organisation (another organisation's ids look the same)."""
    REQUEST_CONFLICT = "tentacle.request_conflict"
    """The request id was used before with a different request."""
    INVALID_TRANSITION = "tentacle.invalid_transition"
    """The task's state does not allow this (e.g. resuming a task that is not paused)."""
    SUPERSEDE_REJECTED = "tentacle.supersede_rejected"
    """The task is running and the policy `reject` keeps its goal."""
    CHECKPOINT_NOT_FOUND = "tentacle.checkpoint_not_found"
    CHECKPOINT_NOT_PENDING = "tentacle.checkpoint_not_pending"
    """The checkpoint was answered, expired or cancelled already."""
    CHECKPOINT_RESPONSE_INVALID = "tentacle.checkpoint_response_invalid"
    """The response does not fit the checkpoint (wrong type, unknown option, missing field)."""
    PREFERENCE_NOT_FOUND = "tentacle.preference_not_found"
    PLAN_INVALID = "tentacle.plan_invalid"
    """A plan (supplied or planned) breaks a rule: unknown agent, missing input, bad
    reference, cycle. Planned ones are repaired or re-planned before this is final."""

    # ------------------------------------------------------------------ why a task failed
    PLANNING_FAILED = "tentacle.planning_failed"
    """No valid plan could be made (the model kept answering garbage or invalid plans)."""
    STEP_FAILED = "tentacle.step_failed"
    REPLANS_EXHAUSTED = "tentacle.replans_exhausted"
    """Steps kept failing after the allowed number of strategic replans."""
    BUDGET_EXCEEDED = "tentacle.budget_exceeded"
    """A budget (agent, task or the organisation's day) would have been exceeded."""
    CHECKPOINT_REJECTED = "tentacle.checkpoint_rejected"
    CHECKPOINT_EXPIRED = "tentacle.checkpoint_expired"
    """Nobody answered in time and the checkpoint's default was to reject."""
    DEADLINE_EXCEEDED = "tentacle.deadline_exceeded"
    STEP_LOST = "tentacle.step_lost"
    """A step's work item was given up on by the bus (every delivery crashed or timed out)."""

    # ------------------------------------------------------------------ agents
    AGENT_NOT_FOUND = "tentacle.agent_not_found"
    AGENT_INVALID = "tentacle.agent_invalid"
    """An agent definition (YAML) that does not validate, or would replace a built-in agent."""
    AGENT_INPUT_INVALID = "tentacle.agent_input_invalid"
    AGENT_OUTPUT_INVALID = "tentacle.agent_output_invalid"
    AGENT_FAILED = "tentacle.agent_failed"
    OUTCOME_UNKNOWN = "tentacle.outcome_unknown"
    """A side effect was started and may have happened; it is not repeated."""
    DESTINATION_BLOCKED = "tentacle.destination_blocked"
    """An http_fetch URL points at a private, loopback or otherwise forbidden address."""
    FETCH_FAILED = "tentacle.fetch_failed"
    AGENT_UNAVAILABLE = "tentacle.agent_unavailable"
    """The agent's dependency (a model, a remote site) is down; retried by the consumer."""
