"""Contracts of inkpass.

Identity: organisations, users, sessions, tokens, API keys, 2FA, OTP, OAuth, roles and policies.
"""

from __future__ import annotations

from contracts.inkpass.streams import EVENTS_STREAM
from contracts.inkpass.streams import STREAMS as STREAMS
from contracts.inkpass.subjects import EVENTS, RPCS, SERVICE
from contracts.platform.health import health_subject

HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH, *RPCS, *EVENTS)
CONSUMERS = ()

__all__ = [
    "CONSUMERS",
    "EVENTS_STREAM",
    "HEALTH",
    "SERVICE",
    "STREAMS",
    "SUBJECTS",
]
