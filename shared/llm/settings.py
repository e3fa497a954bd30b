"""LLM settings (prefix FLUXOS_LLM_): offline by default, a real model by one variable."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LLMSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLUXOS_LLM_", extra="ignore", frozen=True)

    model: str | None = Field(
        default=None,
        description=(
            "A litellm model (openai/gpt-4o-mini, anthropic/..., ollama/...) for every task type; "
            "unset: the built-in offline model."
        ),
    )
    models: dict[str, str] = Field(
        default_factory=dict,
        description='Per task type overrides as JSON, e.g. {"plan": "openai/gpt-4o"}.',
    )
    api_base: str | None = Field(default=None, description="Endpoint for self-hosted models.")
    api_key: SecretStr | None = Field(default=None, description="Provider key, if not in env.")
    timeout_seconds: float = Field(default=60.0, gt=0, description="Per call.")
    max_output_tokens: int = Field(default=1024, ge=1, description="Default completion cap.")
    embedding_model: str | None = Field(
        default=None, description="A litellm embedding model; unset: no embeddings (full text)."
    )
