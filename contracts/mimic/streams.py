"""mimic's streams and durable consumers, with their delivery settings spelled out."""

from __future__ import annotations

from datetime import timedelta

from contracts.mimic.subjects import ACTION_EXECUTE, SEND, SERVICE
from contracts.streams import Consumer, Retention, Stream

COMMANDS = Stream(
    name="MIMIC_COMMANDS",
    subjects=(f"{SERVICE}.v1.cmd.>",),
    description="Work for mimic: notifications to send, outbound actions to execute.",
    retention=Retention.WORK_QUEUE,
    max_age=timedelta(days=7),
)

EVENTS = Stream(
    name="MIMIC_EVENTS",
    subjects=(f"{SERVICE}.v1.evt.notification.>", f"{SERVICE}.v1.evt.action.>"),
    description="Delivery status changes and outcomes of outbound actions.",
    max_age=timedelta(days=30),
)

WEBHOOKS = Stream(
    name="MIMIC_WEBHOOKS",
    subjects=(f"{SERVICE}.v1.evt.webhook.>",),
    description="Verified inbound webhooks, one event each, for triggers to react to.",
    max_age=timedelta(days=7),
    max_bytes=1024 * 1024 * 1024,
    # Message ids are derived from the delivery: a provider's quick retry is dropped here.
    duplicate_window=timedelta(minutes=10),
)

SEND_CONSUMER = Consumer(
    durable="mimic-notification-send",
    service=SERVICE,
    stream=COMMANDS,
    subject=SEND,
    description="Render, rate-limit and send notifications; providers fail over within one try.",
    ack_wait=timedelta(seconds=60),
    # Deferrals for rate limits use deliveries too (at most MIMIC_MAX_DEFERRALS of them).
    max_deliver=12,
    backoff=(
        timedelta(seconds=2),
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=5),
        timedelta(minutes=10),
    ),
    jitter=0.2,
    max_ack_pending=2_000,
    concurrency=64,
)

ACTION_CONSUMER = Consumer(
    durable="mimic-action-execute",
    service=SERVICE,
    stream=COMMANDS,
    subject=ACTION_EXECUTE,
    description="Carry out outbound actions on integrated services.",
    ack_wait=timedelta(seconds=30),
    max_deliver=6,
    backoff=(
        timedelta(seconds=2),
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=5),
    ),
    jitter=0.2,
    concurrency=32,
)

ALL_STREAMS = (COMMANDS, EVENTS, WEBHOOKS)
ALL_CONSUMERS = (SEND_CONSUMER, ACTION_CONSUMER)
