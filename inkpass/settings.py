"""Settings of inkpass (environment prefix INKPASS_), read once at start."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class InkPassSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INKPASS_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "inkpass"
