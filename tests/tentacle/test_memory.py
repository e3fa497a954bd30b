"""Organisation memory over tentacle's bus contracts: versions, history and restore, access
grants, ranked search (key, topic, tags, full text, semantic), and the prompt's memory block."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from contracts.envelope import Actor, ActorKind
from contracts.tentacle.memory import (
    MEMORY_CONTEXT,
    MEMORY_DELETE,
    MEMORY_GET,
    MEMORY_HISTORY,
    MEMORY_RESTORE,
    MEMORY_SEARCH,
    MEMORY_STORE,
    BuildMemoryContextV1,
    DeleteMemoryV1,
    GetMemoryV1,
    MemoryContextV1,
    MemoryHistoryRequestV1,
    MemoryHitsV1,
    MemorySource,
    MemoryTier,
    MemoryV1,
    RestoreMemoryV1,
    SearchMemoryV1,
    StoreMemoryV1,
)
from contracts.tentacle.models import TaskStatus
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from shared.bus import Bus, RemoteError
from shared.llm import LLMSettings
from shared.service import ServiceApp
from shared.testing.llm_stub import OpenAIStub
from tests.shared.bus.conftest import eventually
from tests.tentacle.conftest import ORG, Caller, Start

BOB = Actor(kind=ActorKind.USER, id="bob")


async def store(caller: Caller, key: str, title: str, body: str, **kw: Any) -> MemoryV1:
    result: MemoryV1 = await caller.ask(
        MEMORY_STORE, StoreMemoryV1(key=key, title=title, body=body, **kw)
    )
    return result


async def search(caller: Caller, **kw: Any) -> MemoryHitsV1:
    result: MemoryHitsV1 = await caller.ask(MEMORY_SEARCH, SearchMemoryV1(**kw))
    return result


async def keys(caller: Caller, **kw: Any) -> list[str]:
    return [h.memory.key for h in (await search(caller, **kw)).hits]


async def refused(caller: Caller, subject: Any, payload: Any) -> str:
    with pytest.raises(RemoteError) as caught:
        await caller.ask(subject, payload)
    return caught.value.code


async def test_versions_history_restore_and_delete(tentacle: ServiceApp, caller: Caller) -> None:
    first = await store(caller, "pref:tone", "Email tone", "Formal", topic="preferences")
    assert (first.version, first.source, first.tier) == (1, MemorySource.CONVERSATION, "archival")
    second = await store(caller, "pref:tone", "Email tone", "Casual, short", expected_version=1)
    assert second.version == 2
    stale = StoreMemoryV1(key="pref:tone", title="t", body="b", expected_version=1)
    assert await refused(caller, MEMORY_STORE, stale) == E.MEMORY_VERSION_CONFLICT
    only_new = StoreMemoryV1(key="pref:tone", title="t", body="b", expected_version=0)
    assert await refused(caller, MEMORY_STORE, only_new) == E.MEMORY_VERSION_CONFLICT

    history = await caller.ask(MEMORY_HISTORY, MemoryHistoryRequestV1(key="pref:tone"))
    assert [(v.version, v.body) for v in history.versions] == [(1, "Formal"), (2, "Casual, short")]
    restored: MemoryV1 = await caller.ask(
        MEMORY_RESTORE, RestoreMemoryV1(key="pref:tone", version=1)
    )
    assert (restored.version, restored.body) == (3, "Formal")
    assert (await caller.ask(MEMORY_GET, GetMemoryV1(key="pref:tone"))).body == "Formal"

    await caller.ask(MEMORY_DELETE, DeleteMemoryV1(key="pref:tone"))
    assert await refused(caller, MEMORY_GET, GetMemoryV1(key="pref:tone")) == E.MEMORY_NOT_FOUND
    # Forgotten, not lost: its history can bring it back.
    back: MemoryV1 = await caller.ask(MEMORY_RESTORE, RestoreMemoryV1(key="pref:tone", version=2))
    assert (back.version, back.body) == (4, "Casual, short")
    missing = RestoreMemoryV1(key="pref:tone", version=99)
    assert await refused(caller, MEMORY_RESTORE, missing) == E.MEMORY_NOT_FOUND


async def test_access_grants_and_tenants(
    tentacle: ServiceApp, caller: Caller, stranger: Caller, bus: Bus
) -> None:
    ada = caller.actor
    await store(caller, "secret:salary", "Salaries", "Budget for raises", readers=[ada])
    await store(caller, "fact:office", "Office", "The office is in Lisbon")
    bob = Caller(bus, ORG, BOB)
    assert await refused(bob, MEMORY_GET, GetMemoryV1(key="secret:salary")) == E.MEMORY_NOT_FOUND
    assert await keys(bob, text="budget raises") == []
    assert await keys(bob, key="secret:salary") == []
    assert await keys(caller, text="budget raises") == ["secret:salary"]
    taken = StoreMemoryV1(key="secret:salary", title="x", body="y")
    assert await refused(bob, MEMORY_STORE, taken) == E.MEMORY_VERSION_CONFLICT
    assert (await caller.ask(MEMORY_GET, GetMemoryV1(key="secret:salary"))).version == 1
    assert await refused(stranger, MEMORY_GET, GetMemoryV1(key="fact:office")) == (
        E.MEMORY_NOT_FOUND
    )
    assert await keys(stranger, text="office Lisbon") == []
    assert await refused(stranger, MEMORY_DELETE, DeleteMemoryV1(key="fact:office")) == (
        E.MEMORY_NOT_FOUND
    )
    assert await keys(bob, text="office Lisbon") == ["fact:office"]


async def test_search_by_key_topic_tags_and_text_ranked(
    tentacle: ServiceApp, caller: Caller
) -> None:
    await store(
        caller,
        "comp:acme",
        "Acme pricing",
        "Acme charges 10 per seat",
        topic="competitors",
        tags=["pricing"],
    )
    await store(
        caller,
        "comp:globex",
        "Globex",
        "Globex pricing is secret; seats unknown",
        topic="competitors",
    )
    await store(
        caller,
        "eng:deploy",
        "Deploys",
        "Deploy on Tuesdays",
        topic="engineering",
        tags=["process"],
        source=MemorySource.TASK_AGENT,
    )
    assert await keys(caller, key="eng:deploy") == ["eng:deploy"]
    assert sorted(await keys(caller, topic="competitors")) == ["comp:acme", "comp:globex"]
    assert await keys(caller, tags=["process"]) == ["eng:deploy"]
    hits = (await search(caller, text="pricing")).hits
    # The title weighs more than the body.
    assert [h.memory.key for h in hits] == ["comp:acme", "comp:globex"]
    assert hits[0].matched == ["text"]
    # An exact key outranks text matches, and is merged with them.
    merged = (await search(caller, text="pricing", key="comp:globex")).hits
    assert [h.memory.key for h in merged] == ["comp:globex", "comp:acme"]
    assert merged[0].matched == ["key", "text"]
    assert await keys(caller, text="pricing", topic="engineering") == []


async def test_semantic_search_through_litellm_embeddings(
    start_tentacle: Start, caller: Caller, llm_stub: OpenAIStub
) -> None:
    await start_tentacle(
        llm=LLMSettings(
            embedding_model="openai/text-embedding-3-small",
            api_base=llm_stub.base_url,
            api_key=SecretStr("sk-test"),
        )
    )
    await store(caller, "a", "Alpha", "first memory")
    await store(caller, "b", "Beta", "second memory")
    embedded = [r for r in llm_stub.requests if "input" in r]
    assert len(embedded) == 2
    # The stub's vectors are a hash of the text: the same text is the nearest neighbour.
    found = await search(caller, text="Beta\nsecond memory")
    assert found.hits[0].memory.key == "b"
    assert "semantic" in found.hits[0].matched
    assert found.semantic_skipped is None


async def test_embeddings_are_paid_from_the_org_budget_and_full_text_goes_on_without(
    start_tentacle: Start, caller: Caller, llm_stub: OpenAIStub
) -> None:
    # Each embedding the stub makes reports 8 tokens: $0.00000016 at text-embedding-3-small's
    # price. A day's budget of $0.0000003 pays for two; the third is refused before any call.
    await start_tentacle(
        daily_org_budget_usd=Decimal("0.0000003"),
        llm=LLMSettings(
            embedding_model="openai/text-embedding-3-small",
            api_base=llm_stub.base_url,
            api_key=SecretStr("sk-test"),
        ),
    )
    await store(caller, "a", "Alpha", "first memory")
    await store(caller, "b", "Beta", "second memory")
    assert len([r for r in llm_stub.requests if "input" in r]) == 2
    await store(caller, "c", "Gamma", "third memory about invoices")
    assert len([r for r in llm_stub.requests if "input" in r]) == 2
    # The store was not refused: the memory is kept, and full text finds it; the search says
    # why it is full text only, and makes no model call either.
    found = await search(caller, text="invoices")
    assert [h.memory.key for h in found.hits] == ["c"]
    assert found.hits[0].matched == ["text"]
    assert found.semantic_skipped == "llm.budget_exceeded"
    assert len([r for r in llm_stub.requests if "input" in r]) == 2


async def test_the_memory_block_is_deterministic_and_within_budget(
    tentacle: ServiceApp, caller: Caller
) -> None:
    await store(caller, "core:name", "Company", "We are Acme Ltd.", tier=MemoryTier.CORE)
    await store(caller, "core:tz", "Timezone", "Europe/Lisbon", tier=MemoryTier.CORE)
    await store(caller, "arch:deploy", "Deploys", "Deploy on Tuesdays " + "x " * 40)
    await store(caller, "arch:lunch", "Lunch", "Pizza on Fridays")
    ask = BuildMemoryContextV1(query="when do we deploy", token_budget=400)
    block: MemoryContextV1 = await caller.ask(MEMORY_CONTEXT, ask)
    assert block.keys == ["core:name", "core:tz", "arch:deploy"]
    assert block.text.startswith("What the organisation knows (memory):\n- Company [core:name]")
    assert block.tokens <= 400
    assert await caller.ask(MEMORY_CONTEXT, ask) == block
    small: MemoryContextV1 = await caller.ask(
        MEMORY_CONTEXT, BuildMemoryContextV1(query="when do we deploy", token_budget=50)
    )
    assert small.keys == ["core:name", "core:tz"]
    assert small.tokens <= 50
    core_only = await caller.ask(MEMORY_CONTEXT, BuildMemoryContextV1(token_budget=1000))
    assert core_only.keys == ["core:name", "core:tz"]
    too_long = StoreMemoryV1(key="core:big", title="t", body="x" * 5000, tier=MemoryTier.CORE)
    assert await refused(caller, MEMORY_STORE, too_long) == E.MEMORY_INVALID


async def test_finished_tasks_leave_what_they_learned(tentacle: ServiceApp, caller: Caller) -> None:
    plan = {"steps": [{"id": "a", "agent": "noop", "inputs": {"finding": "tides follow the moon"}}]}
    task = await caller.create("Research the tides", plan=plan)
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    key = f"task:{task.task_id}"

    async def stored() -> bool:
        return await keys(caller, key=key) == [key]

    await eventually(stored, timeout=20)
    memory: MemoryV1 = await caller.ask(MEMORY_GET, GetMemoryV1(key=key))
    assert (memory.title, memory.source, memory.topic) == (
        "Research the tides",
        "task_agent",
        "tasks",
    )
    assert memory.task_id == task.task_id
    assert memory.version == 1
    assert await keys(caller, text="tides research") == [key]
