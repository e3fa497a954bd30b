"""Settings of tentacle (environment prefix TENTACLE_), read once at start."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class TentacleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TENTACLE_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "tentacle"
