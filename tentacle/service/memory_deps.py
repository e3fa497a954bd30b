"""What the memory use cases are given (beside tentacle's database): the embedder, if any."""

from __future__ import annotations

from dataclasses import dataclass

from tentacle.adapters.embeddings import Embedder
from tentacle.adapters.pg import TaskDb


@dataclass(frozen=True)
class MemoryDeps:
    db: TaskDb
    embedder: Embedder | None
