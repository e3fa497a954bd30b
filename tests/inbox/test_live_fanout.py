"""The hub's fan-out: ready streams are written directly, in one pass; a stream whose write has
to wait falls back to its own writer and still gets every entry once, in order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from contracts.inbox.models import FeedEntryV1, FeedKind
from inbox.service import feed
from inbox.service.context import Inbox
from inbox.service.live import Hub, Stream
from tests.inbox.conftest import Platform

ORG = "org-fanout"


class Client:
    """A stream's far end: records what was written; `hold` makes writes wait, as a full
    socket does, until `release`."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.held = asyncio.Event()
        self.held.set()
        self.waiting = 0

    async def write(self, chunk: bytes) -> None:
        if not self.held.is_set():
            self.waiting += 1
            await self.held.wait()
        self.chunks.append(chunk)

    def hold(self) -> None:
        self.held.clear()

    def release(self) -> None:
        self.held.set()

    @property
    def last(self) -> int:
        return self._seqs(self.chunks[-1:])[-1]

    @property
    def seqs(self) -> list[int]:
        return self._seqs(self.chunks)

    @staticmethod
    def _seqs(chunks: list[bytes]) -> list[int]:
        text = b"".join(chunks).decode()
        return [
            json.loads(line[len("data: ") :])["seq"]
            for line in text.split("\n")
            if line.startswith("data: ")
        ]


def entry(seq: int) -> FeedEntryV1:
    return FeedEntryV1(
        org_id=ORG, seq=seq, kind=FeedKind.PROGRESS, data={"n": seq}, at=datetime.now(UTC)
    )


async def wanted() -> bool:
    return True


@pytest.fixture
async def hub(platform: Platform) -> AsyncIterator[Hub]:
    assert platform.inbox.http_app is not None
    found: Hub = platform.inbox.http_app.state.hub
    yield found
    for stream in list(found.streams.get(ORG, ())):
        found.close(stream)


async def open_stream(hub: Hub, client: Client) -> tuple[Stream, asyncio.Task[None]]:
    stream = hub.open(ORG, "user-ada", 0, client.write)
    return stream, asyncio.create_task(hub.serve(stream, wanted))


async def until(predicate: object, timeout: float = 10.0) -> None:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.005)


async def test_ready_streams_are_written_in_one_pass_and_a_turn_in_one_write(hub: Hub) -> None:
    clients = [Client() for _ in range(3)]
    opened = [await open_stream(hub, c) for c in clients]
    try:
        await asyncio.sleep(0.05)  # each writer has found nothing to catch up and waits
        hub.deliver(entry(1))
        hub.deliver(entry(2))  # heard in the same turn: one write
        await asyncio.sleep(0)  # the fan-out runs once the turn's entries are in
        for client in clients:
            assert client.seqs == [1, 2]
            assert len(client.chunks) == 1
        hub.deliver(entry(2))  # a copy heard again (e.g. over the bus after in-process)
        hub.deliver(entry(3))
        await asyncio.sleep(0)
        assert all(c.seqs == [1, 2, 3] for c in clients)
    finally:
        for _, task in opened:
            task.cancel()


async def test_entries_appended_here_reach_its_streams_before_the_bus_and_once(
    platform: Platform, hub: Hub
) -> None:
    assert platform.inbox.http_app is not None
    inbox: Inbox = platform.inbox.http_app.state.inbox
    client = Client()
    _, task = await open_stream(hub, client)
    try:
        await asyncio.sleep(0.05)
        heard = hub.received
        await feed.announce_many(inbox, [entry(1), entry(2)])
        await asyncio.sleep(0)  # one turn: too soon for the bus to have brought them back
        assert client.seqs == [1, 2]
        assert hub.received == heard
        await until(lambda: hub.received == heard + 2)  # the bus's copies: dropped
        await asyncio.sleep(0.05)
        assert client.seqs == [1, 2]
    finally:
        task.cancel()


async def test_a_slow_client_falls_back_and_still_gets_every_entry_once_in_order(
    hub: Hub,
) -> None:
    fast, slow = Client(), Client()
    (_, fast_task), (slow_stream, slow_task) = (
        await open_stream(hub, fast),
        await open_stream(hub, slow),
    )
    try:
        await asyncio.sleep(0.05)
        hub.deliver(entry(1))
        await asyncio.sleep(0)
        slow.hold()  # its socket is full from now on
        total = 3 * slow_stream.capacity  # enough to overflow its buffer too
        for seq in range(2, total + 1):
            hub.deliver(entry(seq))
            await asyncio.sleep(0)
            # The others are not held up by it: each entry reaches them in the same turn.
            assert fast.last == seq
            assert len(slow_stream.buffer) <= slow_stream.capacity
        assert slow.waiting == 1  # one write waits; nothing else was written behind it
        assert slow_stream.flushing is not None
        slow.release()
        await until(lambda: bool(slow.chunks) and slow.last == total)
        assert slow.seqs == list(range(1, total + 1))
        assert fast.seqs == list(range(1, total + 1))
        # Caught up, the slow one is written directly again.
        await until(lambda: slow_stream.ready())
        hub.deliver(entry(total + 1))
        await asyncio.sleep(0)
        assert slow.last == total + 1
    finally:
        fast_task.cancel()
        slow_task.cancel()


async def test_a_failed_write_ends_only_that_stream(hub: Hub) -> None:
    good = Client()

    async def broken(chunk: bytes) -> None:
        raise ConnectionResetError("gone")

    _, good_task = await open_stream(hub, good)
    bad_stream = hub.open(ORG, "user-ada", 0, broken)
    bad_task = asyncio.create_task(hub.serve(bad_stream, wanted))
    try:
        await asyncio.sleep(0.05)
        hub.deliver(entry(1))
        await asyncio.wait_for(bad_task, 5)  # its writer ends; the response then closes
        assert bad_stream.failed
        hub.deliver(entry(2))
        await asyncio.sleep(0)
        assert good.seqs == [1, 2]
    finally:
        good_task.cancel()


async def test_heartbeats_are_spread_over_the_interval_not_sent_all_at_once(hub: Hub) -> None:
    # Streams opened together (a burst of reconnects) beat in small groups, each stream once
    # per interval (1 s in tests) and never in the first half interval after it opened.
    loop = asyncio.get_running_loop()
    beats: list[float] = []

    class Timed(Client):
        async def write(self, chunk: bytes) -> None:
            if chunk.startswith(b": heartbeat"):
                beats.append(loop.time())
            await super().write(chunk)

    clients = [Timed() for _ in range(96)]
    opened_at = loop.time()
    opened = [await open_stream(hub, c) for c in clients]
    try:

        def per_client() -> list[int]:
            return [sum(chunk.startswith(b": heartbeat") for chunk in c.chunks) for c in clients]

        await until(lambda: min(per_client()) >= 1, timeout=5.0)  # every stream has had its beat
        assert min(beats) - opened_at >= 0.5
        assert max(per_client()) <= 2
        # Grouped by the hub's ticks (1/32 of the interval apart): no tick beats them all.
        ticks: dict[int, int] = {}
        for at in beats:
            key = round((at - opened_at) * 32)
            ticks[key] = ticks.get(key, 0) + 1
        assert len(ticks) >= 8
        assert max(ticks.values()) <= len(clients) // 4
    finally:
        for _, task in opened:
            task.cancel()
