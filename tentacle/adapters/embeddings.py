"""Embeddings through litellm's embedding call, when a model is configured.

Without `FLUXOS_LLM_EMBEDDING_MODEL` there is no embedder and memory search is full text only.
A failing embedding call never fails a store or a search: the memory is kept without a vector
(full text still finds it) and the search goes on without the semantic list.
"""

from __future__ import annotations

from typing import Any, Protocol

from shared.llm.settings import LLMSettings
from shared.logging import get_logger

log = get_logger(__name__)

MAX_INPUT_CHARS = 8000


class Embedder(Protocol):
    model: str

    async def embed(self, text: str) -> list[float] | None:
        """The text's vector, or None if it cannot be had now."""


class LiteLLMEmbedder:
    def __init__(self, settings: LLMSettings, model: str) -> None:
        self.model = model
        self._settings = settings

    async def embed(self, text: str) -> list[float] | None:
        import litellm  # imported on first use: it is slow to import and often unneeded

        kwargs: dict[str, Any] = {
            "model": self.model,
            "input": [text[:MAX_INPUT_CHARS]],
            "timeout": self._settings.timeout_seconds,
        }
        if self._settings.api_base:
            kwargs["api_base"] = self._settings.api_base
        if self._settings.api_key is not None:
            kwargs["api_key"] = self._settings.api_key.get_secret_value()
        try:
            response = await litellm.aembedding(**kwargs)
            vector = response.data[0]["embedding"]
        except Exception as exc:  # any provider failure: degrade to full text (see module doc)
            log.warning("memory.embedding_failed", model=self.model, error=str(exc)[:300])
            return None
        return [float(x) for x in vector]


def embedder_from(settings: LLMSettings) -> Embedder | None:
    if not settings.embedding_model:
        return None
    return LiteLLMEmbedder(settings, settings.embedding_model)
