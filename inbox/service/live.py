"""Live streams: the feed entries of an organisation, pushed to each of its open SSE streams.

One subscription per replica receives every organisation's announcements; each stream has a
small bounded buffer. A stream never sees a gap or a duplicate:

* an entry whose number is not the next one expected (one announcement was missed, or the
  stream started mid-way) switches the stream to catching up from the database by number;
* a full buffer (a slow reader) does the same instead of growing: the entries are dropped from
  memory and read again from the database once the reader has room.

Which replica served the request that changed something does not matter: all of them hear the
announcement, so no stream needs to stay on a particular replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts.inbox.models import FeedEntryV1
from contracts.inbox.subjects import FEED_APPENDED
from inbox.domain.errors import TooManyStreams
from inbox.service import feed
from inbox.service.context import Inbox
from shared.bus.codec import DecodeError, decode
from shared.logging import get_logger

log = get_logger(__name__)

_CATCH_UP_BATCH = 200
_BODY_CACHE = 4096
_LIVE_CAPACITY = 512


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
    queued: int = 0
    """The number of the last entry in the buffer (or sent, when the buffer is empty)."""
    buffer: deque[FeedEntryV1] = field(default_factory=deque)
    lagging: bool = True
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    live: deque[bytes] = field(default_factory=lambda: deque(maxlen=_LIVE_CAPACITY))
    """Transient SSE events (no id, never in the feed), e.g. a reply's tokens: a slow reader
    loses the oldest, and whatever they showed also arrives durably through the feed."""

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
        self.streams: dict[str, set[Stream]] = {}
        self.heads: dict[str, int] = {}
        self._sub: Subscription | None = None
        # Streams read the database a few at a time: a thousand reconnecting together queue
        # here instead of exhausting the connection pool.
        self._reads = asyncio.Semaphore(4)
        self.count = 0
        self.received = 0

    async def start(self) -> None:
        self._sub = await self.inbox.bus.nc.subscribe(FEED_APPENDED.wildcard, cb=self._on_msg)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        for streams in self.streams.values():
            for stream in streams:
                stream.wake.set()

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
        org = entry.org_id
        if entry.seq > self.heads.get(org, 0):
            self.heads[org] = entry.seq
        for stream in self.streams.get(org, ()):
            stream.offer(entry)

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
        while True:
            await asyncio.sleep(self.inbox.settings.sse_heartbeat_seconds)
            await self.refresh_heads()

    def body(self, entry: FeedEntryV1) -> bytes:
        key = (entry.org_id, entry.seq)
        found = self._bodies.get(key)
        if found is None:
            found = sse_body(entry)
            self._bodies[key] = found
            if len(self._bodies) > _BODY_CACHE:
                self._bodies.popitem(last=False)
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

    def open(self, org_id: str, user_id: str, after: int) -> Stream:
        stream = Stream(
            org_id=org_id,
            user_id=user_id,
            capacity=self.inbox.settings.sse_buffer_entries,
            sent=after,
            queued=after,
            # Already at the head: nothing to read from the database first.
            lagging=after < self.heads.get(org_id, 0),
        )
        self.streams.setdefault(org_id, set()).add(stream)
        self.count += 1
        return stream

    def close(self, stream: Stream) -> None:
        streams = self.streams.get(stream.org_id)
        if streams is not None and stream in streams:
            streams.discard(stream)
            self.count -= 1
            if not streams:
                del self.streams[stream.org_id]

    async def entries(
        self, stream: Stream, *, heartbeat: float
    ) -> AsyncIterator[FeedEntryV1 | bytes | None]:
        """The stream's entries in order, or None when `heartbeat` seconds passed idle;
        transient events (bytes, a whole SSE event) in between, as soon as they come."""
        while True:
            if stream.live:
                yield stream.live.popleft()
                continue
            if stream.lagging:
                async for entry in self._catch_up(stream):
                    yield entry
                continue
            if stream.buffer:
                entry = stream.buffer.popleft()
                stream.sent = entry.seq
                yield entry
                continue
            stream.wake.clear()
            if self.heads.get(stream.org_id, 0) > stream.queued:
                # Announced while this stream was reading the database: read again (after a
                # breath, in case the database is behind what the bus said).
                stream.lagging = True
                await asyncio.sleep(0.01)
                continue
            try:
                await asyncio.wait_for(stream.wake.wait(), heartbeat)
            except TimeoutError:
                # An announcement this replica never heard (lost while reconnecting) shows up
                # as a head beyond what the stream has: read it from the database.
                if self.heads.get(stream.org_id, 0) > stream.queued:
                    stream.lagging = True
                yield None
            if self._sub is None:
                return

    async def _catch_up(self, stream: Stream) -> AsyncIterator[FeedEntryV1]:
        async with self._reads, self.inbox.db.transaction(org_id=stream.org_id) as uow:
            batch = await feed.read_after(uow.session, stream.org_id, stream.sent, _CATCH_UP_BATCH)
        for entry in batch:
            stream.sent = entry.seq
            yield entry
        if not batch:
            # Nothing newer in the database: trust it over a head heard on the bus.
            stream.buffer.clear()
            stream.queued = stream.sent
            stream.lagging = False
        elif len(batch) < _CATCH_UP_BATCH:
            # Caught up as far as the database knew when asked. Anything announced since is
            # either in the buffer-to-be or seen by the hub's head, which sends us back here.
            stream.buffer.clear()
            stream.queued = stream.sent
            stream.lagging = self.heads.get(stream.org_id, 0) > stream.sent
