"""The dead-letter stream: messages no handler could process, with the reason.

A service dead-letters a message itself when a handler fails permanently or on its last
attempt. When the process never got to answer (it crashed or hung on every delivery), the
server's max-deliveries advisory is captured in a stream and the service copies the original
message over. Both paths use the same `Nats-Msg-Id` (stream and sequence of the original), so a
message is dead-lettered once.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from contracts.ids import SubjectToken
from contracts.model import ContractModel
from contracts.streams import Retention, Stream
from contracts.subject import event

PLATFORM = "fluxos"


class DeadLetterV1(ContractModel):
    # Raw bytes in Python, base64 on the wire: a dead letter may be any bytes at all.
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    service: SubjectToken
    consumer: SubjectToken
    stream: str
    stream_seq: int
    subject: str = Field(description="The subject the original message was published to.")
    code: str = Field(description="Stable code of the reason, e.g. bus.invalid_payload.")
    reason: str
    deliveries: int
    headers: dict[str, str] = Field(default_factory=dict)
    body: bytes = Field(description="The original body, byte for byte.")
    failed_at: datetime


class DeadLetterReplayedV1(ContractModel):
    dead_letter_seq: int
    subject: str
    message_id: str
    replayed_by: str


DEAD_LETTER_RECORDED = event(
    PLATFORM,
    "deadletter",
    "recorded",
    DeadLetterV1,
    tokens=("service", "consumer"),
    tenant=False,
    summary="A message was given up on; body and headers are kept for inspection and replay.",
)

DEAD_LETTER_REPLAYED = event(
    PLATFORM,
    "deadletter",
    "replayed",
    DeadLetterReplayedV1,
    tokens=(),
    tenant=False,
    summary="An operator replayed a dead letter to its original subject.",
)

DEAD_LETTER_STREAM = Stream(
    name="FLUXOS_DEADLETTER",
    subjects=(f"{PLATFORM}.v1.evt.deadletter.>",),
    description="Dead letters of every service, kept for inspection and replay.",
    retention=Retention.LIMITS,
    max_age=None,
    max_bytes=1024 * 1024 * 1024,
)

MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
"""NATS publishes `<this>.<stream>.<consumer>` when a message exhausts its deliveries."""

ADVISORY_STREAM = Stream(
    name="FLUXOS_ADVISORIES",
    subjects=(f"{MAX_DELIVERIES_ADVISORY}.>",),
    description="Captured max-deliveries advisories, so a crash loop still ends in a dead letter.",
    retention=Retention.LIMITS,
    max_age=None,
    max_bytes=64 * 1024 * 1024,
)


class MaxDeliveriesAdvisory(ContractModel):
    """NATS's own advisory schema (io.nats.jetstream.advisory.v1.max_deliver), read tolerantly."""

    stream: str
    consumer: str
    stream_seq: int
    deliveries: int


def advisory_filter(stream: str, consumer: str) -> str:
    return f"{MAX_DELIVERIES_ADVISORY}.{stream}.{consumer}"


def dead_letter_message_id(stream: str, stream_seq: int) -> str:
    return f"dl-{stream}-{stream_seq}"
