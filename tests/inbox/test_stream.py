"""Live streams over SSE: numbered, resumable without gap or duplicate, bounded, shared by
replicas through NATS, and never in charge of the work they show."""

from __future__ import annotations

import asyncio

from contracts.inbox.models import FeedKind
from inbox.service import feed
from inbox.service.context import Inbox
from inbox.service.live import Hub
from shared.service import ServiceApp
from tests.inbox.conftest import Person, Platform, noop_plan
from tests.inbox.sse import Event, SseClient, contiguous


def parts(app: ServiceApp) -> tuple[Inbox, Hub]:
    assert app.http_app is not None
    return app.http_app.state.inbox, app.http_app.state.hub


async def toggle(person: Person, conversation_id: str, times: int) -> None:
    """Feed entries on demand: each change of read status is one entry."""
    for i in range(times):
        status = "read" if i % 2 == 0 else "unread"
        await person.ok(
            "PATCH", f"/api/v1/conversations/{conversation_id}", json={"read_status": status}
        )


async def a_conversation(person: Person) -> str:
    started = await person.ok("POST", "/api/v1/conversations", 201, json={"text": "hello"})
    return str(started["message"]["conversation_id"])


async def test_task_progress_arrives_live_in_order_with_heartbeats(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    stream = SseClient(ada.http)
    await stream.open()
    assert stream.status == 200
    try:
        task = await ada.create_task("live", plan=noop_plan("a", "b"))
        wanted = {"task_created", "planned", "step_started", "step_completed", "completed"}

        def kinds(es: list[Event]) -> set[str]:
            return {
                e.data["data"]["event"]["kind"] for e in es if e.data["task_id"] == task["task_id"]
            }

        events = await stream.wait(lambda es: wanted <= kinds(es))
        assert contiguous(events)
        mine = [e for e in events if e.data["task_id"] == task["task_id"]]
        assert {e.event for e in mine} == {"message", "progress"}
        await stream.wait(lambda _: stream.comments >= 2, timeout=20)  # heartbeats
    finally:
        await stream.close()


async def test_reconnecting_resumes_without_gap_or_duplicate(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    conversation = await a_conversation(ada)
    first = SseClient(ada.http)
    await first.open()
    await toggle(ada, conversation, 5)
    seen = await first.wait(lambda es: len(es) >= 5)
    await first.close()
    # Work goes on while nobody listens, and a task started before the disconnect finishes.
    task = await ada.create_task("unwatched", plan=noop_plan("a", "b"))
    await toggle(ada, conversation, 4)
    await ada.wait_task(task["task_id"], lambda d: d["task"]["status"] == "completed")

    second = SseClient(ada.http, last_event_id=seen[-1].id)
    await second.open()
    try:
        await toggle(ada, conversation, 3)
        resumed = await second.wait(lambda es: sum(1 for e in es if e.event == "conversation") >= 7)
        assert resumed[0].seq == seen[-1].seq + 1
        assert contiguous(seen + resumed)
        assert len({e.seq for e in seen + resumed}) == len(seen + resumed)
    finally:
        await second.close()
    # A page's first connection names its start in the query (EventSource sends no header).
    third = SseClient(ada.http, path=f"/api/v1/stream?after={seen[-1].id}")
    await third.open()
    try:
        again = await third.wait(lambda es: len(es) >= len(resumed))
        assert [e.seq for e in again[: len(resumed)]] == [e.seq for e in resumed]
    finally:
        await third.close()


async def test_foreign_forged_or_future_event_ids_are_refused(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    eve = await platform.sign_up("eve")
    conversation = await a_conversation(eve)
    eves = SseClient(eve.http)
    await eves.open()
    await toggle(eve, conversation, 1)
    event = (await eves.wait(lambda es: len(es) >= 1))[-1]
    await eves.close()

    inbox, _ = parts(platform.inbox)
    future = inbox.event_ids.make(ada.org_id, ada.user_id, 10_000)
    cases: list[tuple[str, str]] = [
        (event.id, "inbox.invalid_last_event_id"),  # eve's id, replayed by ada
        ("3-AAAAAAAAAAAA", "inbox.invalid_last_event_id"),
        ("garbage", "inbox.invalid_last_event_id"),
        (future, "inbox.last_event_id_from_future"),
    ]
    for value, code in cases:
        client = SseClient(ada.http, last_event_id=value)
        await client.open()
        assert client.status == 400, value
        assert client.error is not None
        assert client.error["code"] == code
        await client.close()


async def test_a_slow_reader_cannot_grow_memory_and_still_gets_everything(
    platform: Platform,
) -> None:
    inbox_app = await platform.start_inbox(sse_buffer_entries=8)
    _, hub = parts(inbox_app)
    ada = await platform.sign_up("ada")
    http = platform.client(inbox_app, headers={"Authorization": f"Bearer {ada.access}"})
    conversation = await a_conversation(ada)
    reader, writer = await asyncio.open_connection(*_host_port(inbox_app))
    request = (
        "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {ada.access}\r\nAccept: text/event-stream\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    deadline = asyncio.get_running_loop().time() + 10
    while hub.count == 0:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    # The client reads nothing while 300 entries are appended (through another replica).
    largest = 0
    changes = asyncio.create_task(toggle(ada, conversation, 300))
    while not changes.done():
        for streams in hub.streams.values():
            for stream in streams:
                largest = max(largest, len(stream.buffer))
        await asyncio.sleep(0.005)
    await changes
    assert largest <= 8
    text = b""
    expected = 300
    deadline = asyncio.get_running_loop().time() + 60
    while text.count(b"\nevent: conversation\n") < expected:
        assert asyncio.get_running_loop().time() < deadline, text[-500:]
        text += await asyncio.wait_for(reader.read(65536), 30)
    writer.close()
    ids = [line.split(b": ", 1)[1] for line in text.split(b"\n") if line.startswith(b"id: ")]
    seqs = [int(i.split(b"-")[0]) for i in ids]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    del http


def _host_port(app: ServiceApp) -> tuple[str, int]:
    assert app.http_url is not None
    host, port = app.http_url.removeprefix("http://").split(":")
    return host, int(port)


async def test_replicas_share_streams_through_nats(platform: Platform) -> None:
    other = await platform.start_inbox()
    ada = await platform.sign_up("ada")
    conversation = await a_conversation(ada)
    on_other = SseClient(platform.client(other, headers={"Authorization": f"Bearer {ada.access}"}))
    await on_other.open()
    try:
        await toggle(ada, conversation, 3)  # served by the first replica
        events = await on_other.wait(lambda es: len(es) >= 3)
        assert contiguous(events)
        task = await ada.create_task("anywhere", plan=noop_plan("a"))
        await on_other.wait(
            lambda es: any(
                e.data["task_id"] == task["task_id"]
                and e.data["data"]["event"]["kind"] == "completed"
                for e in es
            )
        )
    finally:
        await on_other.close()


async def test_stream_of_a_signed_out_session_ends(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    stream = SseClient(ada.http)
    await stream.open()
    await ada.ok("POST", "/api/v1/auth/logout")
    assert stream._task is not None
    await asyncio.wait_for(stream._task, 20)  # the server closed it at the next heartbeat


async def test_an_entry_whose_announcement_was_lost_still_arrives(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    stream = SseClient(ada.http)
    await stream.open()
    try:
        inbox, _ = parts(platform.inbox)
        # As if the process died between the commit and the announcement.
        async with inbox.db.transaction(org_id=ada.org_id) as uow:
            entry = await feed.append(
                uow, org_id=ada.org_id, kind=FeedKind.PROGRESS, data={"lost": True}
            )
        [event] = await stream.wait(lambda es: len(es) >= 1, timeout=20)
        assert event.seq == entry.seq
        assert event.data["data"] == {"lost": True}
    finally:
        await stream.close()


async def test_many_streams_get_each_entry_written_side_by_side_in_order(
    platform: Platform,
) -> None:
    # Enough streams for the hub to share a fan-out's socket writes with its helper thread.
    inbox_app = platform.inbox
    _, hub = parts(inbox_app)
    ada = await platform.sign_up("ada")
    conversation = await a_conversation(ada)
    request = (
        "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {ada.access}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    connections = []
    for _ in range(150):  # 130 stay: two shares of at least 64
        reader, writer = await asyncio.open_connection(*_host_port(inbox_app))
        writer.write(request)
        connections.append((reader, writer))
    deadline = asyncio.get_running_loop().time() + 30
    while len(hub.streams.get(ada.org_id, ())) < len(connections):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    # Each stream is on uvicorn's connection itself, past the ASGI chain.
    assert all(stream.direct is not None for stream in hub.streams[ada.org_id])
    before = hub.writer.parallel_batches
    # Some clients vanish (reset, not closed) just as the entries come: the rest are unaffected.
    gone, connections = connections[:20], connections[20:]
    for _, writer in gone:
        writer.transport.abort()
    try:
        await toggle(ada, conversation, 6)
        for reader, _ in connections:
            text = b""
            while text.count(b"\nevent: conversation\n") < 6:
                text += await asyncio.wait_for(reader.read(65536), 20)
            lines = text.split(b"\n")  # chunk sizes sit on lines of their own
            ids = [line.split(b": ", 1)[1] for line in lines if line.startswith(b"id: ")]
            seqs = [int(i.split(b"-")[0]) for i in ids]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, no duplicate
        assert hub.writer.parallel_batches > before
        while len(hub.streams.get(ada.org_id, ())) > len(connections):  # theirs have closed
            assert asyncio.get_running_loop().time() < deadline + 30
            await asyncio.sleep(0.02)
    finally:
        for _, writer in connections:
            writer.close()


async def test_a_stopped_inbox_stops_its_hub_and_writer_threads(platform: Platform) -> None:
    inbox_app = await platform.start_inbox()
    _, hub = parts(inbox_app)
    running = hub.writer.running
    await inbox_app.stop()
    assert (running, hub.writer.running) == (True, False)
    assert hub._sub is None  # no longer hears the feed
