"""Where a service declares its handlers; the service runtime starts them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from contracts.model import ContractModel
from contracts.streams import Consumer
from contracts.subject import Kind, Subject
from shared.bus.consumer import Handler
from shared.bus.rpc import RpcHandler

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)


@dataclass
class Router:
    service: str
    consumers: list[tuple[Consumer[Any], Handler[Any]]] = field(default_factory=list)
    rpcs: list[tuple[Subject[Any, Any], RpcHandler[Any, Any], int]] = field(default_factory=list)

    def consumer(self, spec: Consumer[P]) -> Callable[[Handler[P]], Handler[P]]:
        if spec.service != self.service:
            raise ValueError(
                f"consumer {spec.durable} belongs to {spec.service}, not {self.service}"
            )
        if any(c.durable == spec.durable for c, _ in self.consumers):
            raise ValueError(f"consumer {spec.durable} has a handler already")

        def register(handler: Handler[P]) -> Handler[P]:
            self.consumers.append((spec, handler))
            return handler

        return register

    def rpc(
        self, subject: Subject[P, R], *, concurrency: int = 256
    ) -> Callable[[RpcHandler[P, R]], RpcHandler[P, R]]:
        if subject.kind is not Kind.RPC:
            raise ValueError(f"{subject} is not request-reply")
        if subject.service != self.service:
            raise ValueError(f"{subject} belongs to {subject.service}, not {self.service}")
        if any(s is subject for s, _, _ in self.rpcs):
            raise ValueError(f"{subject} has a handler already")

        def register(handler: RpcHandler[P, R]) -> RpcHandler[P, R]:
            self.rpcs.append((subject, handler, concurrency))
            return handler

        return register
