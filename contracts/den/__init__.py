"""Contracts of den.

Files: folders, metadata, public and private access, signed URLs. Metadata, folders, links and
upload authorisations travel on the bus; bytes go over den's HTTP endpoints only, through the
signed URLs these requests return (or a public file's URL): `contracts.den.http` describes
that surface (tus and PUT uploads, ranged downloads, headers, error bodies and statuses).
"""

from __future__ import annotations

from contracts.den.streams import DEN_EVENTS
from contracts.den.subjects import EVENTS, REQUESTS, SERVICE
from contracts.platform.health import health_subject

HEALTH = health_subject(SERVICE)

SUBJECTS = (HEALTH, *REQUESTS, *EVENTS)
STREAMS = (DEN_EVENTS,)
CONSUMERS = ()

__all__ = ["CONSUMERS", "HEALTH", "SERVICE", "STREAMS", "SUBJECTS"]
