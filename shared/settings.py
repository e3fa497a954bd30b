"""Settings every service reads once at start.

`PlatformSettings` (prefix `FLUXOS_`) describes the platform a service joins: where NATS and the
PostgreSQL server are, how the bus behaves. Each service subclasses `ServiceSettings` with its
own prefix (`TENTACLE_`, `INKPASS_`, ...) for what is its alone; the platform part is nested so a
service sees both without a second read of the environment.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def _default_home() -> Path:
    return Path.home() / ".fluxos"


def _default_instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class PlatformSettings(BaseSettings):
    """The platform as seen by any process: servers, bus limits, logging."""

    model_config = SettingsConfigDict(env_prefix="FLUXOS_", extra="ignore", frozen=True)

    nats_url: str = Field(
        default=DEFAULT_NATS_URL,
        description="NATS server(s), comma-separated for a cluster.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "Administrative URL of the PostgreSQL server. Each service derives its own database "
            "and role from it unless its own <SERVICE>_DATABASE_URL is set."
        ),
    )
    database_prefix: str = Field(
        default="fluxos",
        pattern=r"^[a-z][a-z0-9_]{0,30}$",
        description="Prefix of each service's database and role name (<prefix>_<service>).",
    )
    home: Path = Field(
        default_factory=_default_home,
        description="Data directory of `fluxos up` (embedded servers, logs, runtime state).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Root secret from which per-purpose keys are derived (HKDF).",
    )
    encryption_keys: dict[int, SecretStr] | None = Field(
        default=None,
        description=(
            "Versioned keys for encryption at rest, as JSON {version: secret of 32+ chars}; "
            "unset: version 1 derived from FLUXOS_SECRET_KEY."
        ),
    )
    encryption_key_version: int | None = Field(
        default=None, ge=1, description="The version that encrypts (default: the highest)."
    )
    stream_replicas: int = Field(
        default=1, ge=1, le=5, description="Replicas of every JetStream stream (3 in a cluster)."
    )
    max_message_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest bus payload a service accepts; bigger ones are refused.",
    )
    strict_contracts: bool = Field(
        default=False,
        description="Reject unknown fields in incoming messages (tests) instead of ignoring them.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, value: str) -> str:
        for url in value.split(","):
            if not url.strip().startswith(("nats://", "tls://", "ws://", "wss://")):
                raise ValueError(f"not a NATS URL: {url!r}")
        return value

    @property
    def nats_servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]


class ServiceSettings(BaseSettings):
    """Base of each service's settings; subclasses set `service_name` and the env prefix."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: ClassVar[str]

    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    database_url: str | None = Field(
        default=None,
        description="This service's own database; derived from FLUXOS_DATABASE_URL when unset.",
    )
    instance_id: str = Field(
        default_factory=_default_instance_id,
        description="Name of this replica in logs, health replies and consumer diagnostics.",
    )
    shutdown_grace_seconds: float = Field(
        default=10.0, gt=0, description="Time in-flight work gets to finish on SIGTERM."
    )
    db_pool_size: int = Field(
        default=5, ge=1, le=200, description="Database connections this replica keeps open."
    )
    db_max_overflow: int = Field(
        default=5,
        ge=0,
        le=200,
        description="Extra connections opened under load; a consumer running many messages at "
        "once waits for a connection beyond pool size + overflow.",
    )


class HttpServiceSettings(ServiceSettings):
    """A service that also answers HTTP (inbox, mimic's webhook ingress, den's downloads)."""

    http_host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds.")
    http_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port.")
