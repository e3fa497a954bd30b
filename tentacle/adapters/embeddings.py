"""Embeddings through the LLM gateway, when a model is configured.

Without `FLUXOS_LLM_EMBEDDING_MODEL` there is no embedder and memory search is full text only.
With one, every embedding is a model call like any other: its cost is reserved against the
organisation's daily budget before the call and settled after (`LLMGateway.embed`).

No embedding never fails a store or a search, whatever the reason (the organisation is over its
budget, the provider is down): the memory is kept without a vector, and full text, key, topic
and tags still find it; a search goes on without the semantic list and says why
(`MemoryHitsV1.semantic_skipped`). Refusing instead would lose what an agent learned, or leave
the organisation's memory unreadable, for the sake of an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from shared.errors import FluxosError
from shared.logging import get_logger

if TYPE_CHECKING:  # the gateway imports litellm, slow to import and unneeded without a model
    from shared.llm import LLMGateway
    from shared.llm.settings import LLMSettings

log = get_logger(__name__)

MAX_INPUT_CHARS: Final = 8000


@dataclass(frozen=True, slots=True)
class Embedded:
    vector: list[float] | None
    skipped: str | None = None
    """Why there is no vector: the error code of the budget refusal or provider failure."""


class Embedder(Protocol):
    model: str

    async def embed(self, text: str, *, org_id: str) -> Embedded:
        """The text's vector, paid for by `org_id`, or why it cannot be had now."""


class GatewayEmbedder:
    def __init__(self, gateway: LLMGateway, model: str) -> None:
        self.model = model
        self._gateway = gateway

    async def embed(self, text: str, *, org_id: str) -> Embedded:
        from shared.llm import BudgetScope

        try:
            found = await self._gateway.embed(
                self.model, text, scope=BudgetScope(org_id=org_id), max_chars=MAX_INPUT_CHARS
            )
        except FluxosError as exc:  # over budget, provider down or refusing: see module doc
            log.warning("memory.embedding_skipped", model=self.model, code=exc.code)
            return Embedded(None, exc.code)
        except Exception as exc:  # an unforeseen provider failure: the same, said plainly
            log.warning("memory.embedding_failed", model=self.model, error=str(exc)[:300])
            return Embedded(None, "llm.unavailable")
        return Embedded(found.vector)


def embedder_from(settings: LLMSettings, gateway: LLMGateway) -> Embedder | None:
    if not settings.embedding_model:
        return None
    return GatewayEmbedder(gateway, settings.embedding_model)
