"""Streams of inkpass's events.

Emails have their own short-lived stream: their messages carry one-time codes and invitation
tokens, which should not sit in a stream for days. A code expires in ten minutes, so an email
not delivered within the hour has nothing left worth delivering.
"""

from __future__ import annotations

from datetime import timedelta

from contracts.inkpass.subjects import SERVICE
from contracts.streams import Retention, Stream

EVENTS_STREAM = Stream(
    name="INKPASS_EVENTS",
    subjects=(
        f"{SERVICE}.v1.evt.session.>",
        f"{SERVICE}.v1.evt.apikey.>",
        f"{SERVICE}.v1.evt.authz.>",
        f"{SERVICE}.v1.evt.org.>",
        f"{SERVICE}.v1.evt.member.>",
        f"{SERVICE}.v1.evt.audit.>",
        f"{SERVICE}.v1.evt.account.>",
    ),
    description="Identity facts: revocations, authorization changes, members, audit records.",
    retention=Retention.LIMITS,
    max_age=timedelta(days=7),
)

EMAIL_STREAM = Stream(
    name="INKPASS_EMAILS",
    subjects=(f"{SERVICE}.v1.evt.email.>",),
    description="Emails inkpass asks to be sent; short-lived because they carry codes.",
    retention=Retention.LIMITS,
    max_age=timedelta(hours=1),
)

STREAMS = (EVENTS_STREAM, EMAIL_STREAM)
