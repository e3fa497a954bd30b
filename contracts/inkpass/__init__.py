"""Contracts of inkpass.

Identity: organisations, users, sessions, tokens, API keys, 2FA, OTP, OAuth, roles and policies.
"""

from __future__ import annotations

from contracts.platform.health import health_subject

SERVICE = "inkpass"
HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH,)
STREAMS = ()
CONSUMERS = ()
