"""Listing memories over tentacle's bus contract: most recently changed first, a page at a
time, only what the caller may read, per organisation; a cursor it did not give is refused."""

from __future__ import annotations

import pytest

from contracts.envelope import Actor, ActorKind
from contracts.tentacle.memory import (
    MEMORY_LIST,
    MEMORY_STORE,
    ListMemoriesV1,
    MemoryPageV1,
    MemoryTier,
    StoreMemoryV1,
)
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from shared.bus import Bus, RemoteError
from shared.service import ServiceApp
from tests.tentacle.conftest import ORG, Caller


async def listed(caller: Caller, **kw: object) -> list[str]:
    keys: list[str] = []
    cursor = None
    for _ in range(50):
        page: MemoryPageV1 = await caller.ask(
            MEMORY_LIST,
            ListMemoriesV1(cursor=cursor, **kw),  # type: ignore[arg-type]
        )
        keys += [m.key for m in page.memories]
        cursor = page.next_cursor
        if cursor is None:
            return keys
    raise AssertionError("the pages never ended")


async def test_pages_newest_first_visible_only(
    tentacle: ServiceApp, bus: Bus, caller: Caller, stranger: Caller
) -> None:
    for i in range(7):
        tier = MemoryTier.CORE if i % 3 == 0 else MemoryTier.ARCHIVAL
        await caller.ask(MEMORY_STORE, StoreMemoryV1(key=f"m{i}", title="t", body="b", tier=tier))
    bob = Actor(kind=ActorKind.USER, id="bob")
    await caller.ask(MEMORY_STORE, StoreMemoryV1(key="private", title="t", body="b", readers=[bob]))
    everyone = [f"m{i}" for i in reversed(range(7))]
    assert await listed(caller, limit=3) == ["private", *everyone]  # its owner sees it
    assert await listed(Caller(bus, ORG, Actor(kind=ActorKind.USER, id="carol")), limit=2) == (
        everyone
    )
    assert await listed(caller, tier=MemoryTier.CORE) == ["m6", "m3", "m0"]
    assert await listed(stranger) == []

    # Storing again moves a memory to the front.
    await caller.ask(MEMORY_STORE, StoreMemoryV1(key="m0", title="t", body="again"))
    assert (await listed(caller, limit=4))[:2] == ["m0", "private"]

    for cursor in ("nope", "WyJ4IiwgInkiXQ", "WzEsIDJd"):  # garbage; ["x", "y"]; [1, 2]
        with pytest.raises(RemoteError) as caught:
            await caller.ask(MEMORY_LIST, ListMemoriesV1(cursor=cursor))
        assert caught.value.code == E.CURSOR_INVALID
