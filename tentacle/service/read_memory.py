"""Read memories: by key, their history, a ranked search, and the memory block of a prompt."""

from __future__ import annotations

import re
from typing import Final

from contracts.envelope import Actor, ActorKind, Meta
from contracts.tentacle.memory import (
    BuildMemoryContextV1,
    GetMemoryV1,
    MemoryContextV1,
    MemoryHistoryRequestV1,
    MemoryHistoryV1,
    MemoryHitsV1,
    MemoryHitV1,
    MemoryTier,
    MemoryV1,
    SearchMemoryV1,
)
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from tentacle.adapters import memory_store
from tentacle.domain.memory_rank import Entry, fuse, pack
from tentacle.domain.workspace_errors import WorkspaceError
from tentacle.service.deps import require_org
from tentacle.service.memory_deps import MemoryDeps
from tentacle.service.ports import PromptMemories
from tentacle.service.store_memory import memory_not_found

SEARCH_DEPTH: Final = 50
"""How deep each ranked list goes before the lists are merged."""
MAX_CORE: Final = 200


async def get_memory(deps: MemoryDeps, request: GetMemoryV1, meta: Meta) -> MemoryV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        row = await memory_store.get(tx.conn, org_id, request.key)
    if row is None or not memory_store.visible(row, memory_store.principal(meta.actor)):
        raise memory_not_found(request.key)
    return memory_store.to_memory(row)


async def memory_history(
    deps: MemoryDeps, request: MemoryHistoryRequestV1, meta: Meta
) -> MemoryHistoryV1:
    org_id = require_org(meta)
    who = memory_store.principal(meta.actor)
    async with deps.db.transaction(org_id=org_id) as tx:
        rows = await memory_store.history(tx.conn, org_id, who, request.key)
    if not rows:
        raise memory_not_found(request.key)
    return MemoryHistoryV1(versions=[memory_store.to_memory(r) for r in rows])


async def search_memory(deps: MemoryDeps, request: SearchMemoryV1, meta: Meta) -> MemoryHitsV1:
    who = memory_store.principal(meta.actor)
    hits, skipped = await _search(deps, request, require_org(meta), who)
    return MemoryHitsV1(hits=hits, semantic_skipped=skipped)


async def _search(
    deps: MemoryDeps, request: SearchMemoryV1, org_id: str, who: str
) -> tuple[list[MemoryHitV1], str | None]:
    """The hits, and why semantic search was left out (None: it was not, or is not on)."""
    if request.text is not None and "\x00" in request.text:
        raise WorkspaceError(E.MEMORY_INVALID, "the search text contains NUL")
    vector = None
    skipped = None
    if request.text is not None and deps.embedder is not None:
        embedded = await deps.embedder.embed(request.text, org_id=org_id)
        vector, skipped = embedded.vector, embedded.skipped
    async with deps.db.transaction(org_id=org_id) as tx:
        lists = await memory_store.search_lists(
            tx.conn,
            org_id,
            who,
            tier=request.tier.value if request.tier is not None else None,
            topic=request.topic,
            tags=list(request.tags),
            key=request.key,
            text=request.text,
            vector=vector,
            model=deps.embedder.model if deps.embedder is not None else None,
            depth=SEARCH_DEPTH,
        )
        ranked = fuse(lists)[: request.limit]
        rows = await memory_store.many(tx.conn, org_id, who, [f.key for f in ranked])
    extra = [name for name, on in (("topic", request.topic), ("tags", request.tags)) if on]
    hits = [
        MemoryHitV1(
            memory=memory_store.to_memory(rows[f.key]),
            score=round(f.score, 6),
            matched=f.matched + [m for m in extra if m not in f.matched],
        )
        for f in ranked
        if f.key in rows
    ]
    return hits, skipped


async def memory_context(
    deps: MemoryDeps, request: BuildMemoryContextV1, meta: Meta
) -> MemoryContextV1:
    who = memory_store.principal(meta.actor)
    return await memory_block(deps, require_org(meta), who, request.query, request.token_budget)


async def memory_block(
    deps: MemoryDeps, org_id: str, who: str, query: str | None, token_budget: int
) -> MemoryContextV1:
    """What `who` may read, packed for a prompt: the chat agent's (through the request above)
    and every prompt-defined task agent's (directly, in this process)."""
    async with deps.db.transaction(org_id=org_id) as tx:
        core = await memory_store.core(tx.conn, org_id, who, MAX_CORE)
    relevant: list[MemoryV1] = []
    if query and query.strip():
        hits, _ = await _search(deps, SearchMemoryV1(text=query[:1000], limit=20), org_id, who)
        relevant = [h.memory for h in hits]
    # Core first: those the query finds in their ranked order, then the rest by key; then the
    # archival ones the query finds.
    order = {m.key: i for i, m in enumerate(relevant)}
    core_rows = sorted(core, key=lambda r: (order.get(r["key"], len(order)), r["key"]))
    entries = [Entry(r["key"], r["title"], r["body"]) for r in core_rows]
    entries += [Entry(m.key, m.title, m.body) for m in relevant if m.tier is MemoryTier.ARCHIVAL]
    text, keys, tokens = pack(entries, token_budget)
    return MemoryContextV1(text=text, keys=keys, tokens=tokens)


_WORD: Final = re.compile(r"[^\W_]{3,}")
_MAX_WORDS: Final = 40


def _any_of(text: str) -> str:
    """A search for memories about any of the words of `text` (a step's description and
    inputs are no phrase a memory contains whole); ranking puts those matching most first."""
    words = dict.fromkeys(w.lower() for w in _WORD.findall(text))
    return " or ".join(list(words)[:_MAX_WORDS])


_TASK_AGENT: Final = Actor(kind=ActorKind.SYSTEM, id="tentacle")


def prompt_memories(deps: MemoryDeps, token_budget: int) -> PromptMemories:
    """Task agents' memory block: what the task's actor may read, for the step's inputs."""

    async def block(org_id: str, actor: Actor | None, query: str) -> str:
        who = memory_store.principal(actor or _TASK_AGENT)
        packed = await memory_block(deps, org_id, who, _any_of(query), token_budget)
        return packed.text

    return block
