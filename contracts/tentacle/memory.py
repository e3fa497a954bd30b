"""Organisation memory: what people, the chat agent and task agents learned, shared and versioned.

Each memory has a unique `key` (exact lookups and deduplication: storing the same key again is
a new version of it), a title, a body, a topic, tags, where it came from, and who may read it.
Two tiers: `core` memories (short, high-signal) go into every agent prompt; `archival` ones are
searched on demand. Search merges exact key, topic and tag matches, full text and, when an
embedding model is configured, semantic similarity, into one ranking.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import AwareDatetime, Field, StringConstraints

from contracts.envelope import Actor
from contracts.ids import OrgId, SubjectToken
from contracts.model import ContractModel
from contracts.streams import Consumer, DeliverPolicy
from contracts.subject import Subject, event, rpc
from contracts.tentacle.events import TaskEventKind, TaskEventV1
from contracts.tentacle.streams import EVENTS, PATIENT_BACKOFF
from contracts.tentacle.subjects import TASK_PROGRESSED, TASK_PROGRESSED_WITHOUT_KIND

SERVICE: Final = "tentacle"

MemoryKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:/@-]{1,200}$")]
Topic = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_ -]{0,63}$")]
MemoryTag = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")
]

CORE_BODY_MAX: Final = 4000
ARCHIVAL_BODY_MAX: Final = 8000


class MemoryTier(StrEnum):
    CORE = "core"
    """Compact, high-signal facts injected into every agent prompt (body up to 4,000 chars)."""
    ARCHIVAL = "archival"
    """Longer context found by search (body up to 8,000 chars)."""


class MemorySource(StrEnum):
    CONVERSATION = "conversation"
    """Stored by the chat agent from a conversation (decisions, preferences)."""
    TASK_AGENT = "task_agent"
    """Learned by a task's agents while they worked."""
    USER = "user"
    SYSTEM = "system"


class MemoryV1(ContractModel):
    org_id: OrgId
    key: MemoryKey
    title: str
    body: str
    topic: str | None = None
    tags: list[str] = Field(default_factory=list)
    source: MemorySource
    tier: MemoryTier
    readers: list[Actor] = Field(
        default_factory=list, description="Who may read it; empty: everyone in the organisation."
    )
    task_id: SubjectToken | None = None
    version: int = Field(ge=1)
    created_by: Actor
    updated_by: Actor
    created_at: AwareDatetime
    updated_at: AwareDatetime


class StoreMemoryV1(ContractModel):
    """Create the memory `key`, or store a new version of it."""

    key: MemoryKey
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=ARCHIVAL_BODY_MAX)
    topic: Topic | None = None
    tags: list[MemoryTag] = Field(default_factory=list, max_length=32)
    source: MemorySource = MemorySource.CONVERSATION
    tier: MemoryTier = MemoryTier.ARCHIVAL
    readers: list[Actor] = Field(default_factory=list, max_length=50)
    task_id: SubjectToken | None = None
    expected_version: int | None = Field(
        default=None,
        ge=0,
        description="0: only if new; n: only if at version n (`tentacle.memory_version_conflict`).",
    )


class GetMemoryV1(ContractModel):
    key: MemoryKey


class MemoryHistoryRequestV1(ContractModel):
    key: MemoryKey


class MemoryHistoryV1(ContractModel):
    versions: list[MemoryV1] = Field(description="Oldest first.")


class RestoreMemoryV1(ContractModel):
    """Store an earlier version's content again, as a new version."""

    key: MemoryKey
    version: int = Field(ge=1)


class DeleteMemoryV1(ContractModel):
    key: MemoryKey


class MemoryDeletedV1(ContractModel):
    key: MemoryKey
    version: int


class SearchMemoryV1(ContractModel):
    """Any of: free text (full text, and semantic when embeddings are on), an exact key, a topic,
    tags (any of them), a tier. Results are the visible memories, best first."""

    text: str | None = Field(default=None, min_length=1, max_length=1000)
    key: MemoryKey | None = None
    topic: Topic | None = None
    tags: list[MemoryTag] = Field(default_factory=list, max_length=32)
    tier: MemoryTier | None = None
    limit: int = Field(default=10, ge=1, le=100)


class MemoryHitV1(ContractModel):
    memory: MemoryV1
    score: float
    matched: list[str] = Field(description="How it was found: key, topic, tags, text, semantic.")


class MemoryHitsV1(ContractModel):
    hits: list[MemoryHitV1]
    semantic_skipped: str | None = Field(
        default=None,
        description="Why semantic search was left out of a text search although embeddings are"
        " on: the error code (`llm.budget_exceeded`: the organisation's daily LLM budget is"
        " spent; `llm.unavailable`, `llm.rejected`). The hits are then full text, key, topic and"
        " tags only. None when it ran, or when embeddings are off.",
    )


class ListMemoriesV1(ContractModel):
    """The memories the caller may read, most recently changed first, a page at a time;
    optionally only of a tier, a topic, or with any of some tags."""

    tier: MemoryTier | None = None
    topic: Topic | None = None
    tags: list[MemoryTag] = Field(default_factory=list, max_length=32)
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None, max_length=512, description="next_cursor of the previous page."
    )


class MemoryPageV1(ContractModel):
    memories: list[MemoryV1]
    next_cursor: str | None = None


class BuildMemoryContextV1(ContractModel):
    """The memory block of an agent prompt: every core memory, then the archival ones most
    relevant to `query`, highest relevance first, within `token_budget` (deterministic)."""

    query: str | None = Field(default=None, max_length=2000)
    token_budget: int = Field(default=1000, ge=50, le=32_000)


class MemoryContextV1(ContractModel):
    text: str
    keys: list[MemoryKey]
    tokens: int


class MemoryChange(StrEnum):
    STORED = "stored"
    DELETED = "deleted"


class MemoryChangedV1(ContractModel):
    org_id: OrgId
    key: MemoryKey
    change: MemoryChange
    version: int
    tier: MemoryTier
    source: MemorySource


def _memory_rpc(verb: str, payload: type[Any], reply: type[Any], summary: str) -> Subject[Any, Any]:
    return rpc(SERVICE, "memory", verb, payload, reply, summary=summary)


MEMORY_STORE = _memory_rpc("store", StoreMemoryV1, MemoryV1, "Store a memory (a new version).")
MEMORY_GET = _memory_rpc("get", GetMemoryV1, MemoryV1, "One memory by key.")
MEMORY_HISTORY = _memory_rpc(
    "history", MemoryHistoryRequestV1, MemoryHistoryV1, "Every version of a memory."
)
MEMORY_RESTORE = _memory_rpc(
    "restore", RestoreMemoryV1, MemoryV1, "Make an earlier version current (as a new one)."
)
MEMORY_DELETE = _memory_rpc("delete", DeleteMemoryV1, MemoryDeletedV1, "Forget a memory.")
MEMORY_SEARCH = _memory_rpc(
    "search", SearchMemoryV1, MemoryHitsV1, "Ranked search by key, topic, tags, text, meaning."
)
MEMORY_LIST = _memory_rpc(
    "list", ListMemoriesV1, MemoryPageV1, "Visible memories, most recently changed first, by page."
)
MEMORY_CONTEXT = _memory_rpc(
    "context", BuildMemoryContextV1, MemoryContextV1, "The memory block of an agent prompt."
)
MEMORY_CHANGED = event(
    SERVICE,
    "memory",
    "changed",
    MemoryChangedV1,
    tokens=("org_id",),
    summary="A memory was stored (a new version) or deleted.",
)

MEMORY_SUBJECTS: tuple[Subject[Any, Any], ...] = (
    MEMORY_STORE,
    MEMORY_GET,
    MEMORY_HISTORY,
    MEMORY_RESTORE,
    MEMORY_DELETE,
    MEMORY_SEARCH,
    MEMORY_LIST,
    MEMORY_CONTEXT,
    MEMORY_CHANGED,
)

LEARNINGS_CONSUMER: Final[Consumer[TaskEventV1]] = Consumer(
    durable="tentacle-memory-learnings",
    service=SERVICE,
    stream=EVENTS,
    subject=TASK_PROGRESSED,
    # Only a completed task has something to learn: the server holds back every other event.
    filter_choices=(("kind", (TaskEventKind.COMPLETED.value,)),),
    legacy_subjects=(TASK_PROGRESSED_WITHOUT_KIND,),
    description="Store what each finished task learned as an archival memory (task:<id>).",
    ack_wait=timedelta(seconds=15),
    max_deliver=6,
    backoff=PATIENT_BACKOFF,
    jitter=0.2,
    max_ack_pending=1_000,
    concurrency=16,
    deliver_policy=DeliverPolicy.NEW,
)
