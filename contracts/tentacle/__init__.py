"""Contracts of tentacle.

Orchestration: tasks, plans, steps, agents, checkpoints, budgets, triggers, schedules, workspace
objects and memory.
"""

from __future__ import annotations

from contracts.platform.health import health_subject

SERVICE = "tentacle"
HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH,)
STREAMS = ()
CONSUMERS = ()
