"""The stream of inkpass's events."""

from __future__ import annotations

from datetime import timedelta

from contracts.inkpass.subjects import SERVICE
from contracts.streams import Retention, Stream

EVENTS_STREAM = Stream(
    name="INKPASS_EVENTS",
    subjects=(f"{SERVICE}.v1.evt.>",),
    description="Identity facts: revocations, authorization changes, members, audit records.",
    retention=Retention.LIMITS,
    max_age=timedelta(days=7),
)

STREAMS = (EVENTS_STREAM,)
