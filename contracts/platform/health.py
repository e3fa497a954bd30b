"""Every service answers `<service>.v1.rpc.health.check`: the bus twin of GET /health."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from contracts.model import ContractModel
from contracts.subject import Subject, rpc


class HealthStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    STARTING = "starting"
    STOPPING = "stopping"


class HealthCheckV1(ContractModel):
    """Ask a service how it is."""


class CheckResultV1(ContractModel):
    ok: bool
    detail: str = ""
    latency_ms: float | None = None


class HealthV1(ContractModel):
    service: str
    instance_id: str
    version: str
    status: HealthStatus
    started_at: datetime
    checks: dict[str, CheckResultV1] = Field(default_factory=dict)
    http_url: str | None = None


def health_subject(service: str) -> Subject[HealthCheckV1, Any]:
    return rpc(
        service,
        "health",
        "check",
        HealthCheckV1,
        HealthV1,
        summary=f"Liveness and readiness of {service}: database, bus and consumers.",
        tenant=False,
    )
