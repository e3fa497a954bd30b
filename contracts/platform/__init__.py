"""Contracts of the platform itself: health, dead letters and the bus's own error codes."""

from __future__ import annotations

from contracts.platform.deadletter import (
    ADVISORY_STREAM,
    DEAD_LETTER_RECORDED,
    DEAD_LETTER_REPLAYED,
    DEAD_LETTER_STREAM,
)
from contracts.platform.health import health_subject

SERVICE = "fluxos"
SUBJECTS = (DEAD_LETTER_RECORDED, DEAD_LETTER_REPLAYED)
STREAMS = (DEAD_LETTER_STREAM, ADVISORY_STREAM)
CONSUMERS = ()

__all__ = ["CONSUMERS", "SERVICE", "STREAMS", "SUBJECTS", "health_subject"]
