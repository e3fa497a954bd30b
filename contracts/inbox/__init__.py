"""Contracts of inbox.

The user's door: conversations, messages and read state, projected from lifecycle events.
"""

from __future__ import annotations

from contracts.platform.health import health_subject

SERVICE = "inbox"
HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH,)
STREAMS = ()
CONSUMERS = ()
