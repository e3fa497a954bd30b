"""The typed bus: contracts in, contracts out, over nats-py."""

from __future__ import annotations

from shared.bus.client import Bus, Published
from shared.bus.codec import DecodeError, OutboundMessage
from shared.bus.consumer import Delivery, PullConsumer
from shared.bus.deadletter import AdvisoryWatcher, DeadLetters
from shared.bus.errors import BusTimeout, BusUnavailable, RemoteError
from shared.bus.router import Router
from shared.bus.rpc import Request, RpcServer

__all__ = [
    "AdvisoryWatcher",
    "Bus",
    "BusTimeout",
    "BusUnavailable",
    "DeadLetters",
    "DecodeError",
    "Delivery",
    "OutboundMessage",
    "Published",
    "PullConsumer",
    "RemoteError",
    "Request",
    "Router",
    "RpcServer",
]
