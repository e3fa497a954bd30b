"""Den's stream: its events, fanned out to whoever follows files (the inbox, agents)."""

from __future__ import annotations

from datetime import timedelta

from contracts.streams import Retention, Stream

DEN_EVENTS = Stream(
    name="DEN_EVENTS",
    subjects=("den.v1.evt.>",),
    description="Facts about files and folders: created, updated, deleted, restored, purged.",
    retention=Retention.LIMITS,
    max_age=timedelta(days=7),
    # Bounded by age and count rather than bytes: a byte bound reserves that much of the
    # server's file store up front, which den's own bucket needs for files.
    max_bytes=None,
    max_msgs=2_000_000,
)
