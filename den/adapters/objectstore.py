"""Bytes in the JetStream Object Store, streamed in both directions with bounded memory.

Layout. A file's bytes (a blob) are stored as consecutive *parts*; each part is one ordinary
Object Store object named `<org_id>/<blob_id>/<part_no>` in the bucket: its chunks are messages
on `$O.<bucket>.C.<nuid>` and its metadata (name, size, chunk count, SHA-256 digest) is the
rolled-up message on `$O.<bucket>.M.<base64url(name)>`, exactly as nats-py and the `nats` CLI
write and read them. Names are built from ids den generated, never from a file's name.

Why not nats-py's `ObjectStore.put/get`: `put` awaits each chunk's acknowledgement before
sending the next and reads from a blocking file object; `get` either accumulates the whole
object in memory (`data += chunk`) or hops to a thread per chunk. Here:

* writing keeps `window` chunks in flight (JetStream acknowledges them in order) and takes
  bytes as they arrive from the network, so memory holds at most one chunk being filled plus
  the window;
* reading uses batched direct gets from the exact stream sequence of the first chunk needed
  (den records every chunk's sequence), two batches in flight, so a range request reads only
  the chunks it needs and memory holds at most two batches;
* a part read whole is checked against its SHA-256 digest.

Parts make uploads resumable: a part is either committed (its metadata published and recorded
in PostgreSQL) or discarded, so an interrupted request loses at most the part it was writing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, BadRequestError, NotFoundError

from contracts.den.errors import DenErrorCode
from den.domain.errors import DenError, StorageUnavailable
from shared.bus import Bus
from shared.logging import get_logger

log = get_logger(__name__)

_ACK_TIMEOUT_S: Final = 30.0
_READ_TIMEOUT_S: Final = 30.0
_ROLLUP: Final = {"Nats-Rollup": "sub"}
_EOB: Final = "204"
_NOT_FOUND: Final = "404"
_NO_RESPONDERS: Final = "503"
_LAG_WAITS_S: Final = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)

_STORE_ERRORS = (NatsError, APIError, TimeoutError, NatsTimeout, ConnectionError)


def object_name(org_id: str, blob_id: str, part_no: int) -> str:
    return f"{org_id}/{blob_id}/{part_no}"


def parse_object_name(name: str) -> tuple[str, str, int] | None:
    org_id, _, rest = name.partition("/")
    blob_id, _, part = rest.partition("/")
    if not org_id or not blob_id or not part.isascii() or not part.isdigit():
        return None
    return org_id, blob_id, int(part)


@dataclass(frozen=True, slots=True)
class WrittenPart:
    size: int
    sha256: bytes
    chunk_seqs: list[int]


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A committed part, as den's database records it."""

    nuid: str
    offset: int
    size: int
    chunk_bytes: int
    chunk_seqs: Sequence[int]
    sha256: bytes


@dataclass(frozen=True, slots=True)
class StoredObject:
    name: str
    nuid: str
    mtime: datetime | None


class ObjectStore:
    """One bucket. Construct freely; `ensure_bucket()` once the bus is connected."""

    def __init__(
        self,
        bus: Bus,
        *,
        bucket: str,
        chunk_bytes: int,
        window: int,
        read_batch: int,
        read_batch_max_bytes: int | None = None,
    ) -> None:
        self.bus = bus
        self.bucket = bucket
        self.stream = f"OBJ_{bucket}"
        self.chunk_bytes = chunk_bytes
        self.window = window
        self.read_batch = read_batch
        self.read_batch_max_bytes = read_batch_max_bytes

    @property
    def js(self) -> JetStreamContext:
        return self.bus.js

    def chunk_subject(self, nuid: str) -> str:
        return f"$O.{self.bucket}.C.{nuid}"

    def meta_subject(self, name: str) -> str:
        return f"$O.{self.bucket}.M.{base64.urlsafe_b64encode(name.encode()).decode()}"

    def new_nuid(self) -> str:
        return self.bus.nc._nuid.next().decode()

    # ------------------------------------------------------------------ provisioning
    async def ensure_bucket(self, *, replicas: int) -> None:
        """The bucket's stream as nats-py's `create_object_store` makes it, idempotently."""
        want = api.StreamConfig(
            name=self.stream,
            description="den: file bytes",
            subjects=[f"$O.{self.bucket}.C.>", f"$O.{self.bucket}.M.>"],
            max_bytes=-1,
            storage=api.StorageType.FILE,
            num_replicas=replicas,
            discard=api.DiscardPolicy.NEW,
            allow_rollup_hdrs=True,
            allow_direct=True,
        )
        try:
            have = (await self.js.stream_info(self.stream)).config
        except NotFoundError:
            try:
                await self.js.add_stream(want)
                log.info("den.bucket_created", bucket=self.bucket, replicas=replicas)
                return
            except BadRequestError:
                have = (await self.js.stream_info(self.stream)).config
        if have.num_replicas != replicas:
            await self.js.update_stream(want)
            log.info("den.bucket_updated", bucket=self.bucket, replicas=replicas)

    # ------------------------------------------------------------------ writing
    def writer(self, name: str, nuid: str, *, also: Sequence[Any] = ()) -> PartWriter:
        return PartWriter(self, name, nuid, also)

    async def purge(self, nuid: str, name: str | None = None) -> None:
        """Remove a part's chunks and (if it has a name) its metadata; absent ones are fine."""
        try:
            await self.js.purge_stream(self.stream, subject=self.chunk_subject(nuid))
            if name is not None:
                await self.js.purge_stream(self.stream, subject=self.meta_subject(name))
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"could not remove stored bytes: {exc}") from None

    # ------------------------------------------------------------------ reading
    def read(self, parts: Sequence[StoredPart], start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start..end` (inclusive) of the blob made of `parts` (in order)."""
        return _Reader(self, parts, start, end).run()

    # ------------------------------------------------------------------ inventory
    async def list_objects(self) -> list[StoredObject]:
        """Every object's metadata in the bucket (for the orphan sweep)."""
        store = await self.js.object_store(self.bucket)
        try:
            infos = await store.list(ignore_deletes=True)
        except NotFoundError:
            return []
        return [StoredObject(i.name, i.nuid, _parse_mtime(i.mtime)) for i in infos]

    async def chunk_nuids(self) -> set[str]:
        """Every nuid that has chunks in the bucket."""
        prefix = f"$O.{self.bucket}.C."
        info = await self.js.stream_info(self.stream, subjects_filter=f"{prefix}>")
        subjects = info.state.subjects or {}
        return {s[len(prefix) :] for s in subjects}

    async def last_write(self, nuid: str) -> datetime | None:
        try:
            msg = await self.js.get_last_msg(self.stream, self.chunk_subject(nuid))
        except NotFoundError:
            return None
        return msg.time if isinstance(msg.time, datetime) else None


def _parse_mtime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Hashing:
    """Feeds chunks to hash objects in order, hashing big chunks in a worker thread.

    hashlib releases the GIL while it hashes, so the event loop keeps moving bytes (to the
    network, to JetStream) while another core hashes; one job at a time keeps the order.
    """

    THREAD_MIN = 64 * 1024

    def __init__(self, hashers: Sequence[Any]) -> None:
        self.hashers = list(hashers)
        self._job: asyncio.Future[None] | None = None

    async def feed(self, data: bytes) -> None:
        await self.settle()
        if len(data) >= self.THREAD_MIN:
            loop = asyncio.get_running_loop()
            self._job = loop.run_in_executor(None, _update_all, self.hashers, data)
        else:
            _update_all(self.hashers, data)

    async def settle(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            await job


def _update_all(hashers: list[Any], data: bytes) -> None:
    for h in hashers:
        h.update(data)


@dataclass
class PartWriter:
    """Streams one part: `write()` as bytes arrive, then `finish()` (or `abort()`).

    `also` are further hash objects fed the same bytes in order (the whole file's digest, a
    request's checksum), so each byte is read once for every digest it belongs to.
    """

    store: ObjectStore
    name: str
    nuid: str
    also: Sequence[Any] = ()
    size: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _hash: Any = field(default_factory=hashlib.sha256)
    _hashing: Hashing | None = None
    _pending: deque[asyncio.Future[api.PubAck]] = field(default_factory=deque)
    _seqs: list[int] = field(default_factory=list)
    _finished: bool = False

    def __post_init__(self) -> None:
        self._hashing = Hashing([self._hash, *self.also])

    async def write(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        chunk = self.store.chunk_bytes
        view = memoryview(data)
        if self._buffer:
            take = chunk - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < chunk:
                return
            await self._send(bytes(self._buffer))
            self._buffer.clear()
        while len(view) >= chunk:
            await self._send(bytes(view[:chunk]))
            view = view[chunk:]
        if view:
            self._buffer += view

    async def finish(self) -> WrittenPart:
        if self._buffer:
            await self._send(bytes(self._buffer))
            self._buffer.clear()
        while self._pending:
            await self._settle()
        assert self._hashing is not None
        await self._hashing.settle()
        digest = self._hash.digest()
        info = api.ObjectInfo(
            name=self.name,
            bucket=self.store.bucket,
            nuid=self.nuid,
            size=self.size,
            chunks=len(self._seqs),
            digest="SHA-256=" + base64.urlsafe_b64encode(digest).decode(),
            mtime=datetime.now(UTC).isoformat(),
            options=api.ObjectMetaOptions(max_chunk_size=self.store.chunk_bytes),
        )
        try:
            await self.store.js.publish(
                self.store.meta_subject(self.name),
                json.dumps(info.as_dict()).encode(),
                headers=dict(_ROLLUP),
                timeout=_ACK_TIMEOUT_S,
            )
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"could not store a part's metadata: {exc}") from None
        self._finished = True
        return WrittenPart(self.size, digest, list(self._seqs))

    async def abort(self) -> None:
        """Remove what was written. Waits out acknowledgements first: a chunk landing after
        the purge would survive it."""
        for future in list(self._pending):
            try:
                await asyncio.wait_for(future, _ACK_TIMEOUT_S)
            except Exception as exc:  # only settling; the purge below is what matters
                log.debug("den.abort_unacknowledged", error=str(exc))
        self._pending.clear()
        await self.store.purge(self.nuid, self.name)

    async def _send(self, payload: bytes) -> None:
        assert self._hashing is not None
        await self._hashing.feed(payload)
        try:
            future = await self.store.js.publish_async(self.store.chunk_subject(self.nuid), payload)
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"could not store a chunk: {exc}") from None
        self._pending.append(future)
        if len(self._pending) >= self.store.window:
            await self._settle()

    async def _settle(self) -> None:
        future = self._pending.popleft()
        try:
            ack = await asyncio.wait_for(future, _ACK_TIMEOUT_S)
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"a chunk was not acknowledged: {exc}") from None
        if ack.stream != self.store.stream:
            raise StorageUnavailable(f"a chunk landed in {ack.stream}, not {self.store.stream}")
        self._seqs.append(ack.seq)


class _Reader:
    """Batched direct gets with one batch requested ahead; each batch has its own inbox."""

    def __init__(self, store: ObjectStore, parts: Sequence[StoredPart], start: int, end: int):
        self.store = store
        self.parts = parts
        self.start = start
        self.end = end
        self._queues: dict[str, asyncio.Queue[Msg]] = {}
        self._prefix = ""
        self._sent = 0

    async def run(self) -> AsyncIterator[bytes]:
        nc = self.store.bus.nc
        self._prefix = prefix = nc.new_inbox()

        async def route(msg: Msg) -> None:
            queue = self._queues.get(msg.subject)
            if queue is not None:
                queue.put_nowait(msg)

        try:
            sub = await nc.subscribe(f"{prefix}.*", cb=route)
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"cannot read stored bytes: {exc}") from None
        try:
            plan = self._batches()
            requested: deque[str] = deque()
            for index, batch in enumerate(plan):
                # Keep the next batch on its way while this one is sent to the client.
                while len(requested) < 2 and index + len(requested) < len(plan):
                    ahead = plan[index + len(requested)]
                    requested.append(await self._request(ahead.part, ahead.first, ahead.count))
                async for piece in self._receive(requested.popleft(), batch):
                    yield piece
        finally:
            try:
                await sub.unsubscribe()
            except _STORE_ERRORS as exc:
                log.debug("den.read_unsubscribe_failed", error=str(exc))

    def _batches(self) -> list[_Batch]:
        out: list[_Batch] = []
        for part in self.parts:
            part_end = part.offset + part.size - 1
            if part.size == 0 or part_end < self.start or part.offset > self.end:
                continue
            lo = max(self.start, part.offset) - part.offset
            hi = min(self.end, part_end) - part.offset
            first, last = lo // part.chunk_bytes, hi // part.chunk_bytes
            whole = lo == 0 and hi == part.size - 1
            digest = _PartDigest(part.sha256) if whole else None
            index = first
            while index <= last:
                count = min(self.store.read_batch, last - index + 1)
                out.append(_Batch(part, index, count, lo, hi, digest, index + count > last))
                index += count
        return out

    async def _request(self, part: StoredPart, first: int, count: int) -> str:
        self._sent += 1
        inbox = f"{self._prefix}.{self._sent}"
        self._queues[inbox] = asyncio.Queue()
        request: dict[str, object] = {
            "seq": part.chunk_seqs[first],
            "next_by_subj": self.store.chunk_subject(part.nuid),
            "batch": count,
        }
        if self.store.read_batch_max_bytes is not None:
            request["max_bytes"] = self.store.read_batch_max_bytes
        try:
            await self.store.bus.nc.publish(
                f"$JS.API.DIRECT.GET.{self.store.stream}",
                json.dumps(request).encode(),
                reply=inbox,
            )
        except _STORE_ERRORS as exc:
            raise StorageUnavailable(f"cannot read stored bytes: {exc}") from None
        return inbox

    async def _receive(self, inbox: str, batch: _Batch) -> AsyncIterator[bytes]:
        queue = self._queues[inbox]
        part = batch.part
        i, end = batch.first, batch.first + batch.count
        asked_at, waits = i, iter(_LAG_WAITS_S)
        while i < end:
            msg = await self._next(queue)
            headers = msg.headers or {}
            status = headers.get("Status")
            if status in (_EOB, _NOT_FOUND):
                # Ended early: the server caps a batch's bytes, or the replica that answered
                # (any replica answers direct gets) has not applied the newest chunks yet.
                # Ask for the rest; after no progress, give replicas a moment first.
                if i == asked_at:
                    wait = next(waits, None)
                    if wait is None:
                        raise DenError(
                            DenErrorCode.INTEGRITY, f"chunk {i} of a stored part is missing"
                        )
                    await asyncio.sleep(wait)
                self._queues.pop(inbox, None)
                inbox = await self._request(part, i, end - i)
                queue = self._queues[inbox]
                asked_at = i
                continue
            if status == _NO_RESPONDERS:
                # Nothing serves the bucket's direct gets (stream gone, no leader): the store
                # is unavailable, which says nothing about the bytes' integrity.
                raise StorageUnavailable("the object store has no responder for reads")
            if status is not None or headers.get("Nats-Sequence") != str(part.chunk_seqs[i]):
                raise DenError(
                    DenErrorCode.INTEGRITY,
                    f"chunk {i} of a stored part is missing (status {status})",
                )
            data = msg.data
            if batch.digest is not None:
                await batch.digest.update(data)
            chunk_start = i * part.chunk_bytes
            lo = max(batch.lo - chunk_start, 0)
            hi = min(batch.hi - chunk_start + 1, len(data))
            yield data if lo == 0 and hi == len(data) else data[lo:hi]
            i += 1
        eob = await self._next(queue)
        self._queues.pop(inbox, None)
        if (eob.headers or {}).get("Status") != _EOB:
            raise DenError(DenErrorCode.INTEGRITY, "a stored part has more chunks than recorded")
        if batch.last_of_part and batch.digest is not None:
            await batch.digest.check()

    async def _next(self, queue: asyncio.Queue[Msg]) -> Msg:
        if not queue.empty():
            return queue.get_nowait()  # the common case: no timer, no task (wait_for makes one)
        try:
            return await asyncio.wait_for(queue.get(), _READ_TIMEOUT_S)
        except TimeoutError:
            raise StorageUnavailable("the object store did not answer in time") from None


class _PartDigest:
    def __init__(self, expected: bytes) -> None:
        self.expected = expected
        self._hash = hashlib.sha256()
        self._hashing = Hashing([self._hash])

    async def update(self, data: bytes) -> None:
        await self._hashing.feed(data)

    async def check(self) -> None:
        await self._hashing.settle()
        if self._hash.digest() != self.expected:
            raise DenError(DenErrorCode.INTEGRITY, "a stored part does not match its digest")


@dataclass(frozen=True, slots=True)
class _Batch:
    part: StoredPart
    first: int
    count: int
    lo: int
    hi: int
    digest: _PartDigest | None
    last_of_part: bool
