"""Settings of inbox (environment prefix INBOX_), read once at start."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import HttpServiceSettings


class InboxSettings(HttpServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBOX_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "inbox"
    http_port: int = Field(default=8080, ge=0, le=65535, description="0 picks a free port.")
