"""Contracts of den.

Files: folders, metadata, public and private access, signed URLs.
"""

from __future__ import annotations

from contracts.platform.health import health_subject

SERVICE = "den"
HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH,)
STREAMS = ()
CONSUMERS = ()
