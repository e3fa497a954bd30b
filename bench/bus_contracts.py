"""The benchmark's own little contract: one command, one request, their streams and payloads."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.api import DeliverPolicy as NatsDeliverPolicy
from pydantic import Field

from contracts.ids import SubjectToken
from contracts.model import ContractModel
from contracts.streams import Consumer, DeliverPolicy, Stream
from contracts.subject import command, rpc


class BenchOrderV1(ContractModel):
    order_id: SubjectToken
    item: str
    quantity: int = Field(ge=1)


class BenchQuoteV1(ContractModel):
    item: str
    cents: int


BENCH_CMD = command("bench", "order", "place", BenchOrderV1, tokens=("order_id",))
BENCH_RPC = rpc("bench", "quote", "get", BenchOrderV1, BenchQuoteV1)
# Limits retention, and a fresh durable consumer per round that sees only new messages:
# rounds never inherit each other's pull requests or backlog.
BENCH_STREAM = Stream(name="BENCH", subjects=("bench.v1.cmd.>",), description="bench")
RAW_STREAM = Stream(name="RAWBENCH", subjects=("rawbench.>",), description="raw floor")
RAW_SUBJECT = "rawbench.order"
RAW_RPC_SUBJECT = "rawbench.quote"
NEXT = "benchctl.next"
READY = "benchctl.ready"
STOP = "benchctl.stop"

_BENCH_CONSUMER = Consumer(
    durable="bench-orders",
    service="bench",
    stream=BENCH_STREAM,
    subject=BENCH_CMD,
    description="bench",
    ack_wait=timedelta(seconds=30),
    deliver_policy=DeliverPolicy.NEW,
)


def typed_consumer(round_: int) -> Consumer[BenchOrderV1]:
    return dataclasses.replace(_BENCH_CONSUMER, durable=f"bench-orders-{round_}")


def raw_durable(round_: int) -> str:
    return f"raw-{round_}"


def raw_consumer(durable: str) -> ConsumerConfig:
    """The raw floor's consumer: explicit ack, new messages only, like the typed one."""
    return ConsumerConfig(
        durable_name=durable,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=30,
        filter_subject=RAW_SUBJECT,
        deliver_policy=NatsDeliverPolicy.NEW,
    )


ORDER = BenchOrderV1(order_id="o-1", item="widget", quantity=3)

# The raw floor carries the same bytes as a typed message (envelope included), so the ratio
# measures what our layer does, not how much bigger an envelope is than a bare payload.
PAYLOAD = (
    b'{"meta":{"message_id":"0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b","type":"BenchOrderV1",'
    b'"org_id":null,"actor":{"kind":"system","id":"fluxos"},'
    b'"call_id":"0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6c","parent_call_id":null,'
    b'"root_call_id":"0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6c",'
    b'"occurred_at":"2026-11-21T11:26:15.123456Z"},'
    b'"data":{"order_id":"o-1","item":"widget","quantity":3}}'
)
REPLY = (
    b'{"meta":' + PAYLOAD[8 : PAYLOAD.index(b',"data"')] + b',"ok":true,'
    b'"data":{"item":"widget","cents":300}}'
)
