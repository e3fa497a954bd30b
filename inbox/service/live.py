"""Live streams: the feed entries of an organisation, pushed to each of its open SSE streams.

One subscription per replica receives every organisation's announcements; each stream has a
small bounded buffer. A stream never sees a gap or a duplicate:

* an entry whose number is not the next one expected (one announcement was missed, or the
  stream started mid-way) switches the stream to catching up by number;
* a full buffer (a slow reader) does the same instead of growing: the entries are dropped from
  its buffer and read again once the reader has room.

Catching up reads the org's recent entries kept by the hub (shared by all its streams, bounded)
and the database only for what is older, so a burst that overflows a thousand buffers, or a
thousand reconnects, costs no thousand queries.

Fan-out is the hot path (every entry, every stream). A stream that is up to date and idle
gets the entry's frame written by the hub itself, in the one loop over the org's streams: a
call of the stream's `write` (its ASGI `send`) that the transport nearly always takes at once,
so an entry costs a thousand streams a thousand calls rather than a thousand task wake-ups
(which took ~45 ms of the event loop per entry at 1,000 streams and so most of the latency).
A write that has to wait (the client's socket is full) carries on in a task of its own, and
until it is done that stream takes the buffered path: its own writer, woken, writes whatever
waits in one chunk. A stream catching up, or with transient events waiting, also goes that
way, so a stream's bytes always go out in order. The signed frame of an entry is made once per
person, not once per stream. Where the server gives the connection itself (uvicorn's), the
hub's writes skip the ASGI chain, and one entry's writes to many streams are shared between the
event loop and `sse_write_threads` helper threads: the socket writes, most of a fan-out's time,
release the GIL (see `shared.service.direct_body`). The heartbeat is one timer for the whole
hub rather than a timeout per stream and wait, and beats the streams a slot at a time.

Which replica served the request that changed something does not matter: all of them hear the
announcement, so no stream needs to stay on a particular replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts.inbox.models import FeedEntryV1
from contracts.inbox.subjects import FEED_APPENDED
from inbox.domain.errors import TooManyStreams
from inbox.service import feed
from inbox.service.context import Inbox
from inbox.service.eager import run_eagerly
from shared.bus.codec import DecodeError, decode
from shared.logging import get_logger
from shared.service.direct_body import DirectBody, ParallelWriter, http_chunk

log = get_logger(__name__)

_CATCH_UP_BATCH = 200
_BODY_CACHE = 4096
_FRAME_CACHE = 8192
_RECENT = 4096
"""Recent entries kept for streams catching up, all organisations together (a bound on memory
however many organisations have streams open)."""
_LIVE_CAPACITY = 512
_HEARTBEAT = b": heartbeat\n\n"
_BEAT_SLOTS = 32

Write = Callable[[bytes], Coroutine[Any, Any, None]]
"""Writes a chunk of the stream to its client (the response's ASGI `send`, in effect)."""


def sse_body(entry: FeedEntryV1) -> bytes:
    """The `event:` and `data:` lines of an entry (the `id:` line is per person)."""
    data = json.dumps(
        {
            "seq": entry.seq,
            "kind": entry.kind.value,
            "conversation_id": entry.conversation_id,
            "task_id": entry.task_id,
            "data": entry.data,
            "source_at": entry.source_at.isoformat() if entry.source_at else None,
            "at": entry.at.isoformat(),
        },
        separators=(",", ":"),
    )
    return f"event: {entry.kind.value}\ndata: {data}\n\n".encode()


@dataclass(eq=False)
class Stream:
    org_id: str
    user_id: str
    capacity: int
    sent: int
    """The number of the last entry written to the client."""
    write: Write
    direct: DirectBody | None = None
    """The connection itself, where the server offers it: chunks written to it skip the ASGI
    chain (see `shared.service.direct_body`), and a fan-out writes many in parallel."""
    queued: int = 0
    """The number of the last entry in the buffer (or sent, when the buffer is empty)."""
    buffer: deque[FeedEntryV1] = field(default_factory=deque)
    lagging: bool = True
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    beat: bool = False
    """A heartbeat is due (set by the hub's one timer)."""
    live: deque[bytes] = field(default_factory=lambda: deque(maxlen=_LIVE_CAPACITY))
    """Transient SSE events (no id, never in the feed), e.g. a reply's tokens: a slow reader
    loses the oldest, and whatever they showed also arrives durably through the feed."""

    writing: bool = False
    """The stream's own writer is in a write (one that may be waiting for the socket)."""
    slot: int = 0
    """The heartbeat slot the hub dealt the stream into."""
    opened_at: float = 0.0
    """When the stream opened, in the event loop's time."""
    flushing: asyncio.Task[None] | None = None
    """A write of the hub's that had to wait for the socket, still going."""
    failed: bool = False

    def ready(self) -> bool:
        """Whether the entries after `queued` can be written right now, ahead of nothing else."""
        return (
            not self.lagging
            and not self.buffer
            and not self.live
            and not self.writing
            and self.flushing is None
            and not self.failed
        )

    def flushed(self, task: asyncio.Task[None]) -> None:
        self.flushing = None
        if task.cancelled() or task.exception() is not None:
            self.failed = True
        self.wake.set()  # whatever was buffered meanwhile goes next

    def push_live(self, body: bytes) -> None:
        self.live.append(body)
        self.wake.set()

    def offer(self, entry: FeedEntryV1) -> None:
        if entry.seq <= self.queued:
            return  # already queued or sent
        if not self.lagging:
            if entry.seq != self.queued + 1 or len(self.buffer) >= self.capacity:
                self.lagging = True
                self.buffer.clear()
            else:
                self.buffer.append(entry)
                self.queued = entry.seq
        self.wake.set()


class Hub:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        # Each entry's SSE body, encoded once for all the org's streams (only the id differs).
        self._bodies: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        # Each entry's frame with its signed id, made once per person for all their streams.
        self._frames: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()
        # The latest entries of the orgs with open streams, by org and number, for catching up.
        self._recent: OrderedDict[tuple[str, int], FeedEntryV1] = OrderedDict()
        self.streams: dict[str, set[Stream]] = {}
        self.heads: dict[str, int] = {}
        self._sub: Subscription | None = None
        # Streams read the database a few at a time: a thousand reconnecting together queue
        # here instead of exhausting the connection pool.
        self._reads = asyncio.Semaphore(4)
        self.count = 0
        self.received = 0
        self._due: dict[str, dict[int, FeedEntryV1]] = {}
        """Entries heard in this turn of the event loop, by org and number, for one fan-out."""
        self._slots: list[set[Stream]] = [set() for _ in range(_BEAT_SLOTS)]
        """The open streams dealt round into heartbeat slots (see `watch_heads`)."""
        self._next_slot = 0
        self.writer = ParallelWriter(inbox.settings.sse_write_threads)

    async def start(self) -> None:
        self.writer.start()
        self._sub = await self.inbox.bus.nc.subscribe(FEED_APPENDED.wildcard, cb=self._on_msg)
        # What this process appends reaches its streams without the bus's round trip.
        self.inbox.heard_here.append(self.deliver)

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.inbox.heard_here.remove(self.deliver)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        for streams in self.streams.values():
            for stream in streams:
                stream.wake.set()
        self.writer.close()

    async def _on_msg(self, msg: Msg) -> None:
        try:
            entry = decode(
                FEED_APPENDED,
                msg.data,
                strict=False,
                max_bytes=self.inbox.settings.platform.max_message_bytes,
            ).data
        except DecodeError as exc:
            log.warning("inbox.bad_feed_entry", subject=msg.subject, error=str(exc))
            return
        self.received += 1
        self.deliver(entry)

    def deliver(self, entry: FeedEntryV1) -> None:
        """Hand an entry to every open stream of its organisation, once the entries heard
        with it (in the same turn of the event loop) are in: written at once where a stream is
        ready for them, else queued for the stream's own writer."""
        org = entry.org_id
        if entry.seq > self.heads.get(org, 0):
            self.heads[org] = entry.seq
        if org not in self.streams or (org, entry.seq) in self._recent:
            return  # no stream to tell, or told already (heard in-process, then over the bus)
        self._recent[(org, entry.seq)] = entry
        if len(self._recent) > _RECENT:
            self._recent.popitem(last=False)  # the oldest heard
        if not self._due:
            # One fan-out for all that arrives in this turn: under load, when entries come
            # faster than a thousand writes take, each stream gets them in one write.
            asyncio.get_running_loop().call_soon(self._fan_out)
        self._due.setdefault(org, {})[entry.seq] = entry

    def _fan_out(self) -> None:
        due, self._due = self._due, {}
        for org, by_seq in due.items():
            entries = [by_seq[seq] for seq in sorted(by_seq)]
            first = entries[0].seq
            unbroken = entries[-1].seq - first + 1 == len(entries)
            last = entries[-1].seq
            chunks: dict[tuple[str, int], bytes] = {}  # per person and first entry written
            framed: dict[tuple[str, int], bytes] = {}  # the same as HTTP chunks
            direct: list[tuple[DirectBody, bytes]] = []
            # A copy: a failing write must not upset the loop.
            for stream in tuple(self.streams.get(org, ())):
                skip = stream.queued + 1 - first  # how many of them it has already
                if unbroken and 0 <= skip < len(entries) and stream.ready():
                    key = (stream.user_id, skip)
                    chunk = chunks.get(key)
                    if chunk is None:
                        chunk = b"".join(self.frame(e, stream.user_id) for e in entries[skip:])
                        chunks[key] = chunk
                    body = stream.direct
                    if body is not None and body.idle():
                        stream.sent = stream.queued = last
                        data = framed.get(key)
                        if data is None:
                            data = framed[key] = http_chunk(chunk)
                        direct.append((body, data))
                    else:
                        self._write_now(stream, last, chunk)
                else:
                    for entry in entries:
                        stream.offer(entry)
            if direct:
                self._write_direct(org, direct)

    def _write_direct(self, org: str, items: list[tuple[DirectBody, bytes]]) -> None:
        failed = self.writer.write(items)
        if not failed:
            return
        broken = {id(body): error for body, error in failed}
        for stream in self.streams.get(org, ()):
            error = broken.get(id(stream.direct))
            if error is not None:
                self._broken(stream, error)

    @staticmethod
    def _broken(stream: Stream, error: Exception) -> None:
        """The connection is broken: the stream's writer ends the response."""
        log.info("inbox.stream_write_failed", org_id=stream.org_id, error=str(error))
        stream.failed = True
        stream.wake.set()

    def _write_now(self, stream: Stream, last: int, chunk: bytes) -> None:
        stream.sent = stream.queued = last
        try:
            if stream.direct is not None and stream.direct.write(chunk):
                return
            waiting = run_eagerly(stream.write(chunk))
        except Exception as exc:
            self._broken(stream, exc)
            return
        if waiting is not None:  # the socket is full: the stream waits, the others go on
            stream.flushing = waiting
            waiting.add_done_callback(stream.flushed)

    async def refresh_heads(self) -> None:
        """Read the head of every org with open streams: an announcement lost on the way (the
        announcing process died after its commit) then shows up at the streams' next beat."""
        for org_id in list(self.streams):
            try:
                await self.head(org_id, fresh=True)
            except Exception as exc:  # the database is away: try again next round
                log.warning("inbox.head_refresh_failed", org_id=org_id, error=str(exc))
                return

    async def watch_heads(self) -> None:
        """The heartbeats, and once per heartbeat interval the heads re-read, so a stream
        whose entries' announcement was lost reads them.

        Each stream beats once per interval, but not all at once: the streams are dealt into
        `_BEAT_SLOTS` slots and one slot beats per tick. A beat wakes the stream's writer,
        which re-checks the credential and writes; a thousand of those together held the event
        loop for tens of ms, and an entry arriving meanwhile reached every stream that late.
        """
        interval = self.inbox.settings.sse_heartbeat_seconds
        tick = interval / _BEAT_SLOTS
        loop = asyncio.get_running_loop()
        for n in itertools.count(1):
            await asyncio.sleep(tick)
            # A stream opened less than half an interval ago waits for its slot's next turn:
            # its first beat comes after 0.5 to 1.5 intervals, never right after it opened.
            settled = loop.time() - interval / 2
            for stream in tuple(self._slots[n % _BEAT_SLOTS]):
                if stream.opened_at <= settled:
                    stream.beat = True
                    stream.wake.set()
            if n % _BEAT_SLOTS == 0:
                await self.refresh_heads()
                for org_id, streams in self.streams.items():
                    head = self.heads.get(org_id, 0)
                    for stream in streams:
                        if head > stream.queued:
                            stream.wake.set()

    def body(self, entry: FeedEntryV1) -> bytes:
        key = (entry.org_id, entry.seq)
        found = self._bodies.get(key)
        if found is None:
            found = sse_body(entry)
            self._bodies[key] = found
            if len(self._bodies) > _BODY_CACHE:
                self._bodies.popitem(last=False)
        return found

    def frame(self, entry: FeedEntryV1, user_id: str) -> bytes:
        """The whole SSE event of an entry for one person: their signed id, then the body."""
        key = (entry.org_id, user_id, entry.seq)
        found = self._frames.get(key)
        if found is None:
            event_id = self.inbox.event_ids.make(entry.org_id, user_id, entry.seq)
            found = b"id: " + event_id.encode() + b"\n" + self.body(entry)
            self._frames[key] = found
            if len(self._frames) > _FRAME_CACHE:
                self._frames.popitem(last=False)
        return found

    def relay(self, org_id: str, body: bytes) -> None:
        """A transient event to every open stream of the org (see `Stream.live`)."""
        for stream in self.streams.get(org_id, ()):
            stream.push_live(body)

    def check_capacity(self) -> None:
        if self.count >= self.inbox.settings.sse_max_streams:
            raise TooManyStreams("this replica has as many streams as it serves; try another")

    async def head(self, org_id: str, *, fresh: bool = False) -> int:
        """The org's last entry number: as last heard, or read from the database."""
        known = self.heads.get(org_id)
        if known is not None and not fresh:
            return known
        async with self._reads, self.inbox.db.transaction(org_id=org_id) as uow:
            current = await feed.head(uow.session, org_id)
        if current > self.heads.get(org_id, 0):
            self.heads[org_id] = current
        return current

    def open(
        self,
        org_id: str,
        user_id: str,
        after: int,
        write: Write,
        direct: DirectBody | None = None,
    ) -> Stream:
        stream = Stream(
            org_id=org_id,
            user_id=user_id,
            capacity=self.inbox.settings.sse_buffer_entries,
            sent=after,
            write=write,
            direct=direct,
            queued=after,
            # Already at the head: nothing to read from the database first.
            lagging=after < self.heads.get(org_id, 0),
        )
        self.streams.setdefault(org_id, set()).add(stream)
        stream.opened_at = asyncio.get_running_loop().time()
        stream.slot = self._next_slot
        self._slots[stream.slot].add(stream)
        self._next_slot = (self._next_slot + 1) % _BEAT_SLOTS
        self.count += 1
        return stream

    def close(self, stream: Stream) -> None:
        streams = self.streams.get(stream.org_id)
        if streams is not None and stream in streams:
            streams.discard(stream)
            self._slots[stream.slot].discard(stream)
            self.count -= 1
            if not streams:
                del self.streams[stream.org_id]

    async def serve(self, stream: Stream, still_wanted: Callable[[], Awaitable[bool]]) -> None:
        """Write what the hub did not write directly, in order, until the hub stops, a write
        fails or `still_wanted` (asked at every heartbeat) says no: whole SSE events, as many
        at once as are waiting (transient ones first, as soon as they come), and heartbeats.
        """
        while self._sub is not None and not stream.failed:
            if stream.flushing is not None:
                await asyncio.wait([stream.flushing])  # its bytes go first; its error ends us
                continue
            if stream.beat:
                stream.beat = False
                if not await still_wanted():
                    return
                await self._write(stream, _HEARTBEAT)
                continue
            parts: list[bytes] = []
            while stream.live:
                parts.append(stream.live.popleft())  # transient: no id, Last-Event-ID stays put
            if stream.lagging:
                entries = await self._catch_up(stream)
            else:
                entries = list(stream.buffer)
                stream.buffer.clear()
                if entries:
                    stream.sent = entries[-1].seq
            user = stream.user_id
            parts.extend(self.frame(entry, user) for entry in entries)
            if parts:
                await self._write(stream, b"".join(parts))
                continue
            stream.wake.clear()
            if self.heads.get(stream.org_id, 0) > stream.queued:
                # Announced while this stream was reading the database (or never heard here):
                # read again, after a breath in case the database is behind what the bus said.
                stream.lagging = True
                await asyncio.sleep(0.01)
                continue
            await stream.wake.wait()

    @staticmethod
    async def _write(stream: Stream, chunk: bytes) -> None:
        # While this write waits for the socket the hub writes nothing directly to the stream.
        stream.writing = True
        try:
            if stream.direct is None or not stream.direct.write(chunk):
                await stream.write(chunk)
        finally:
            stream.writing = False

    async def _catch_up(self, stream: Stream) -> list[FeedEntryV1]:
        batch = self._recent_after(stream.org_id, stream.sent)
        if not batch:
            async with self._reads, self.inbox.db.transaction(org_id=stream.org_id) as uow:
                batch = await feed.read_after(
                    uow.session, stream.org_id, stream.sent, _CATCH_UP_BATCH
                )
            if not batch:
                # Nothing newer in the database: trust it over a head heard on the bus.
                stream.buffer.clear()
                stream.queued = stream.sent
                stream.lagging = False
                return batch
        stream.sent = batch[-1].seq
        if len(batch) < _CATCH_UP_BATCH:
            # Caught up as far as was known when asked. Anything announced since is either in
            # the buffer-to-be or seen by the hub's head, which sends the stream back here.
            stream.buffer.clear()
            stream.queued = stream.sent
            stream.lagging = self.heads.get(stream.org_id, 0) > stream.sent
        return batch

    def _recent_after(self, org_id: str, after: int) -> list[FeedEntryV1]:
        """The entries numbered after `after` kept in memory, as far as they run unbroken."""
        recent = self._recent
        batch: list[FeedEntryV1] = []
        seq = after + 1
        while len(batch) < _CATCH_UP_BATCH and (entry := recent.get((org_id, seq))) is not None:
            batch.append(entry)
            seq += 1
        return batch
