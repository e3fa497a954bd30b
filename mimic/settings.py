"""Settings of mimic (environment prefix MIMIC_), read once at start."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import HttpServiceSettings


class MimicSettings(HttpServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MIMIC_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "mimic"
    http_port: int = Field(default=8081, ge=0, le=65535, description="0 picks a free port.")
