"""Asking services how they are, over the bus (`<service>.v1.rpc.health.check`).

Readiness of the platform, `fluxos status` and the container health check all come down to
one question per service; `ReadinessProbe` is that question, so the supervisor neither knows nor
cares how it is carried.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from nats.errors import Error as NatsError

from contracts.platform.health import HealthCheckV1, HealthStatus, HealthV1, health_subject
from shared.bus import Bus, BusTimeout, BusUnavailable, DecodeError, RemoteError
from shared.context import system_actor
from shared.settings import PlatformSettings

# Alive and serving; a degraded service answers, so it counts as up (its checks say what ails it).
HEALTHY = frozenset({HealthStatus.OK, HealthStatus.DEGRADED})
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    status: str
    """A `HealthStatus` value, or `unreachable` when no instance answered."""
    detail: str = ""
    http_url: str | None = None
    instance_id: str | None = None

    @property
    def healthy(self) -> bool:
        return self.status in HEALTHY

    @classmethod
    def of(cls, reply: HealthV1) -> ServiceHealth:
        failing = [f"{k}: {c.detail or 'failing'}" for k, c in reply.checks.items() if not c.ok]
        return cls(
            service=reply.service,
            status=reply.status.value,
            detail="; ".join(failing),
            http_url=reply.http_url,
            instance_id=reply.instance_id,
        )


class ReadinessProbe(Protocol):
    async def check(self, service: str) -> ServiceHealth:
        """How `service` is; never raises for an unhealthy or absent service."""
        ...

    async def close(self) -> None: ...


class BusProbe:
    """Health checks as bus requests, on one connection that rides out NATS restarts."""

    def __init__(self, bus: Bus, *, timeout: float) -> None:
        self._bus = bus
        self._timeout = timeout

    @classmethod
    async def connect(
        cls,
        platform: PlatformSettings,
        *,
        name: str = "fluxos-cli",
        timeout: float = 2.0,
        connect_deadline: float = 10.0,
    ) -> BusProbe:
        """Connect, or raise `ConnectionError` once `connect_deadline` seconds have passed."""
        bus = Bus(platform, name=name, actor=system_actor(name))
        # The bus reconnects forever, and so retries its first connection forever too.
        try:
            await asyncio.wait_for(
                bus.connect(timeout=min(timeout, connect_deadline)), connect_deadline
            )
        except (TimeoutError, OSError, NatsError) as exc:
            where = ", ".join(platform.nats_servers)
            raise ConnectionError(f"cannot reach NATS at {where} ({exc or 'timed out'})") from exc
        return cls(bus, timeout=timeout)

    async def check(self, service: str) -> ServiceHealth:
        try:
            reply = await self._bus.request(
                health_subject(service), HealthCheckV1(), timeout=self._timeout
            )
        except BusUnavailable:
            return ServiceHealth(service, UNREACHABLE, "no instance answers")
        except BusTimeout:
            return ServiceHealth(service, UNREACHABLE, f"no reply within {self._timeout:g}s")
        except (RemoteError, DecodeError) as exc:
            return ServiceHealth(service, "error", f"{exc.code}: {exc.message}")
        except NatsError as exc:
            return ServiceHealth(service, UNREACHABLE, f"bus: {exc}")
        return ServiceHealth.of(reply)

    async def close(self) -> None:
        # Draining waits for a server; one that is gone must not hold up a shutdown.
        with contextlib.suppress(TimeoutError, NatsError):
            await asyncio.wait_for(self._bus.close(), 2.0)


async def check_all(probe: ReadinessProbe, services: Iterable[str]) -> dict[str, ServiceHealth]:
    names = list(services)
    results = await asyncio.gather(*(probe.check(name) for name in names))
    return dict(zip(names, results, strict=True))
