"""Stream one request body into an upload, part by part, without holding the file in memory.

Consistency, in the order things happen:

1. The request claims the upload with a lease (one writer at a time, across replicas), and
   removes what an earlier, dead writer left: parts never committed, or beyond the offset.
2. Before any byte of a part is stored, a row naming its object (and chunk subject) is committed;
   the bytes follow; then the part's metadata; then the row is marked written and, unless the
   request carries a checksum, the upload's offset advances past it. A crash anywhere leaves a
   row the reconciler finds (lease expired) and whose objects it removes: never an object
   nobody knows, never a row pointing at bytes that are not there.
3. A checksum (tus `Upload-Checksum`), a size limit or the quota failing removes everything
   this request stored and leaves the offset where it was: the request changed nothing. A
   client that disconnects keeps what arrived (that is what makes uploads resumable), unless it
   sent a checksum, which can then no longer be verified.
4. The request that stores the last byte completes the upload before letting go of the lease,
   so a crash before the completion commits leaves a lease that runs out, and the reconciler
   completes the upload from what is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row

from contracts.den.errors import DenErrorCode
from contracts.den.models import UploadState
from contracts.ids import new_id
from den.adapters import repository as repo
from den.adapters.objectstore import PartWriter, WrittenPart, object_name
from den.domain.errors import DenError
from den.domain.tus import Checksum
from den.service import lookups
from den.service.complete_upload import complete_upload
from den.service.context import Den
from den.service.reserve import reserve_up_to
from den.service.start_upload import closed
from shared.logging import get_logger

log = get_logger(__name__)


class BodyInterrupted(Exception):
    """The client went away before sending the whole body."""


@dataclass
class _Part:
    part_no: int
    nuid: str
    name: str
    start: int
    capacity: int
    writer: PartWriter

    @property
    def end(self) -> int:
        return self.start + self.writer.size


@dataclass(frozen=True)
class _Done:
    part_no: int
    nuid: str
    name: str
    end: int


async def receive_upload(
    den: Den,
    org_id: str,
    upload_id: str,
    *,
    offset: int,
    body: AsyncIterator[bytes],
    checksum: Checksum | None = None,
    body_length: int | None = None,
    final: bool = False,
) -> Row[Any]:
    """Append `body` at `offset`; the upload row afterwards, completed if it is whole.

    `final`: the body's end is the upload's end (a single request without a length).
    """
    receiver = _Receiver(den, org_id, upload_id, checksum)
    try:
        row = await receiver.claim(offset, body_length)
        return await receiver.run(row, body, final=final)
    finally:
        await receiver.release()


class _Receiver:
    def __init__(self, den: Den, org_id: str, upload_id: str, checksum: Checksum | None) -> None:
        self.den = den
        self.org_id = org_id
        self.upload_id = upload_id
        self.checksum = checksum
        self.owner = f"{den.instance}/{new_id()}"
        self.lease = timedelta(seconds=den.settings.writer_lease_s)
        self.part_bytes = den.settings.part_bytes
        self.length: int | None = None
        self.max_bytes = 0
        self.start_offset = 0
        self.next_part_no = 0
        self.current: _Part | None = None
        self.done: list[_Done] = []
        self.hasher: Any = None
        self.hasher_at_start: Any = None
        self.patch_hash: Any = hashlib.sha256() if checksum is not None else None
        self.claimed = False
        self.keep_lease = False
        self.lost: DenError | None = None

    # ------------------------------------------------------------------ claim and release
    async def claim(self, offset: int, body_length: int | None) -> Row[Any]:
        now = self.den.now()
        async with self.den.db.transaction(org_id=self.org_id) as uow:
            row = await lookups.upload(uow.session, self.upload_id, lock=True)
            self.upload_id = str(row.id)
            if row.state != UploadState.RECEIVING.value:
                raise closed(row.state)
            if row.expires_at <= now:
                raise closed("expired")
            if row.lease_owner is not None and row.lease_until > now:
                raise DenError(DenErrorCode.UPLOAD_BUSY, "another request is writing this upload")
            if offset != row.byte_offset:
                raise DenError(
                    DenErrorCode.OFFSET_MISMATCH,
                    f"the upload continues at byte {row.byte_offset}, not {offset}",
                    details={"offset": int(row.byte_offset)},
                )
            if (
                row.length is not None
                and body_length is not None
                and offset + body_length > row.length
            ):
                raise DenError(
                    DenErrorCode.TOO_LARGE,
                    "the body runs past the upload's declared length",
                    details={"length": int(row.length)},
                )
            all_parts = await repo.parts_of(uow.session, self.upload_id)
            stale = [
                p for p in all_parts if not p.written or p.byte_offset + p.size > row.byte_offset
            ]
            self.next_part_no = max((p.part_no for p in all_parts), default=-1) + 1
            row = await repo.update_upload(
                uow.session, self.upload_id, lease_owner=self.owner, lease_until=now + self.lease
            )
            await repo.schedule_sweep(uow.session, self.org_id, now + self.lease)
        self.claimed = True
        self.length = row.length
        self.max_bytes = int(row.max_bytes)
        self.start_offset = int(row.byte_offset)
        if stale:
            await self._remove([(p.part_no, p.nuid, self._name(p.part_no)) for p in stale])
        self.hasher = self.den.hashes.take(self.upload_id, self.start_offset)
        if self.hasher is not None:
            self.hasher_at_start = self.hasher.copy()
        return row

    async def release(self) -> None:
        if not self.claimed or self.keep_lease:
            return
        try:
            async with self.den.db.transaction(org_id=self.org_id) as uow:
                row = await lookups.upload(uow.session, self.upload_id, lock=True)
                if row.lease_owner == self.owner:
                    await repo.update_upload(
                        uow.session, self.upload_id, lease_owner=None, lease_until=None
                    )
        except Exception as exc:  # the lease then simply expires
            log.warning("den.lease_release_failed", upload=self.upload_id, error=str(exc))

    # ------------------------------------------------------------------ streaming
    async def run(self, row: Row[Any], body: AsyncIterator[bytes], *, final: bool) -> Row[Any]:
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            row = await self._run(body)
            if final and row.length is None:
                row = await self._end_here(int(row.byte_offset))
            if row.state == UploadState.RECEIVING.value and row.byte_offset == row.length:
                row = await self._complete()
            return row
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _run(self, body: AsyncIterator[bytes]) -> Row[Any]:
        try:
            async for piece in body:
                if self.lost is not None:
                    raise self.lost
                if piece:
                    await self._write(piece)
        except BodyInterrupted:
            await self._interrupted()
            raise
        except BaseException:
            await self._fail()
            raise
        try:
            # Closing the last part flushes every byte through the hashes; only then can the
            # checksum be compared (its parts are not counted in the offset until it matches).
            if self.current is not None:
                await self._close(self.current)
                self.current = None
            if (
                self.patch_hash is not None
                and self.checksum is not None
                and self.patch_hash.digest() != self.checksum.digest
            ):
                raise DenError(
                    DenErrorCode.CHECKSUM_MISMATCH, "the body does not match Upload-Checksum"
                )
            if self.checksum is not None:
                row = await self._advance_to(self._position())
            else:
                row = await self._current_row()
        except BaseException:
            await self._fail()
            raise
        self._keep_hasher(int(row.byte_offset))
        return row

    async def _end_here(self, offset: int) -> Row[Any]:
        async with self.den.db.transaction(org_id=self.org_id) as uow:
            await self._hold(uow.session, length=offset, reserved_bytes=offset)
            return await lookups.upload(uow.session, self.upload_id)

    async def _complete(self) -> Row[Any]:
        """Complete the whole upload while still holding the lease: if this process dies
        before the completion commits, the lease runs out and the reconciler completes it
        (a released lease would tell it nobody was finishing the upload)."""
        try:
            return await complete_upload(self.den, self.org_id, self.upload_id)
        except BaseException:
            self.keep_lease = True  # the reconciler completes it once the lease runs out
            raise

    def _position(self) -> int:
        if self.current is not None:
            return self.current.end
        return self.done[-1].end if self.done else self.start_offset

    async def _write(self, piece: bytes) -> None:
        view = memoryview(piece)
        while view:
            if self.current is None:
                self.current = await self._open(self._position())
            part = self.current
            room = part.capacity - part.writer.size
            await part.writer.write(view[:room])
            view = view[room:]
            if part.writer.size == part.capacity:
                written = await self._finish(part)
                if view:
                    # The next part starts in the same transaction that records this one.
                    self.current = await self._open(part.end, closing=(part, written))
                else:
                    await self._record(part, written)
                    self.current = None

    def _name(self, part_no: int) -> str:
        return object_name(self.org_id, self.upload_id, part_no)

    async def _open(self, start: int, closing: tuple[_Part, WrittenPart] | None = None) -> _Part:
        """Name the next part in the database before any of its bytes is stored."""
        part_no = self.next_part_no
        nuid = self.den.store.new_nuid()
        async with self.den.db.transaction(org_id=self.org_id) as uow:
            await self._hold(uow.session, closing)
            limit = await self._limit(uow.session, start)
            await repo.insert_part(
                uow.session,
                blob_id=self.upload_id,
                part_no=part_no,
                org_id=self.org_id,
                nuid=nuid,
                byte_offset=start,
                chunk_bytes=self.den.store.chunk_bytes,
            )
        self.next_part_no += 1
        if closing is not None:
            self._recorded(closing[0])
        name = self._name(part_no)
        capacity = min(self.part_bytes, limit - start)
        also = [h for h in (self.hasher, self.patch_hash) if h is not None]
        writer = self.den.store.writer(name, nuid, also=also)
        return _Part(part_no, nuid, name, start, capacity, writer)

    async def _limit(self, session: Any, start: int) -> int:
        """Where this request must stop: the declared length, or what the quota grants."""
        if self.length is not None:
            if start >= self.length:
                raise DenError(
                    DenErrorCode.TOO_LARGE,
                    "the body runs past the upload's declared length",
                    details={"length": self.length},
                )
            return self.length
        if start >= self.max_bytes:
            raise DenError(
                DenErrorCode.TOO_LARGE,
                f"the file exceeds the upload limit of {self.max_bytes} bytes",
                details={"max_bytes": self.max_bytes},
            )
        target = min(start + self.part_bytes, self.max_bytes)
        granted = await reserve_up_to(
            session, self.org_id, self.upload_id, target, self.den.settings.default_quota_bytes
        )
        if granted <= start:
            raise DenError(
                DenErrorCode.QUOTA_EXCEEDED,
                "the file would exceed the organisation's quota",
                details={"stored_until": start},
            )
        await repo.update_upload(session, self.upload_id, reserved_bytes=granted)
        return granted

    async def _close(self, part: _Part) -> None:
        await self._record(part, await self._finish(part))

    async def _finish(self, part: _Part) -> WrittenPart:
        """The part's last chunks and its metadata, stored (or removed again on failure)."""
        try:
            return await part.writer.finish()
        except BaseException:
            await self._abort_part(part)
            raise

    async def _record(self, part: _Part, written: WrittenPart) -> None:
        async with self.den.db.transaction(org_id=self.org_id) as uow:
            await self._hold(uow.session, (part, written))
        self._recorded(part)

    def _recorded(self, part: _Part) -> None:
        self.done.append(_Done(part.part_no, part.nuid, part.name, part.end))

    async def _advance_to(self, offset: int) -> Row[Any]:
        async with self.den.db.transaction(org_id=self.org_id) as uow:
            await self._hold(uow.session, byte_offset=offset)
            return await lookups.upload(uow.session, self.upload_id)

    async def _current_row(self) -> Row[Any]:
        async with self.den.db.transaction(org_id=self.org_id) as uow:
            return await lookups.upload(uow.session, self.upload_id)

    # ------------------------------------------------------------------ the lease
    async def _hold(
        self, session: Any, written: tuple[_Part, WrittenPart] | None = None, **values: Any
    ) -> None:
        """Renew the lease, recording a written part if given; fail at once if the upload was
        taken over or closed meanwhile (a writer that lost its lease must stop writing)."""
        if written is not None:
            part, stored = written
            await repo.mark_part_written(
                session,
                self.upload_id,
                part.part_no,
                size=stored.size,
                sha256=stored.sha256,
                chunk_seqs=stored.chunk_seqs,
            )
            if self.checksum is None:
                values["byte_offset"] = part.end
        until = self.den.now() + self.lease
        row = await repo.update_held_upload(
            session, self.upload_id, self.owner, lease_until=until, **values
        )
        if row is None:
            current = await lookups.upload(session, self.upload_id)
            if current.state != UploadState.RECEIVING.value:
                raise closed(current.state)
            raise DenError(DenErrorCode.UPLOAD_BUSY, "another request took over this upload")

    async def _heartbeat(self) -> None:
        """Keep the lease while the request lives, even when the client pauses: a writer is
        dead when its process is, not when its client is slow."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                async with self.den.db.transaction(org_id=self.org_id) as uow:
                    await self._hold(uow.session)
            except DenError as exc:
                self.lost = exc  # taken over or closed: the writer stops at its next piece
                return
            except Exception as exc:  # the database blinked; the lease has slack for a retry
                log.warning("den.lease_renewal_failed", upload=self.upload_id, error=str(exc))

    # ------------------------------------------------------------------ when things go wrong
    async def _interrupted(self) -> None:
        """The client left: keep what arrived, unless a checksum can no longer vouch for it."""
        if self.checksum is not None:
            await self._fail()
            return
        part, self.current = self.current, None
        if part is not None:
            if part.writer.size == 0:
                await self._abort_part(part)
            else:
                try:
                    await self._close(part)
                except Exception as exc:
                    log.warning("den.partial_part_lost", upload=self.upload_id, error=str(exc))
        row = await self._current_row()
        self._keep_hasher(int(row.byte_offset))

    async def _fail(self) -> None:
        """Undo this request: its parts go, the offset returns to where it started."""
        part, self.current = self.current, None
        if part is not None:
            await self._abort_part(part)
        done, self.done = self.done, []
        try:
            if done:
                async with self.den.db.transaction(org_id=self.org_id) as uow:
                    await self._hold(uow.session, byte_offset=self.start_offset)
                await self._remove([(d.part_no, d.nuid, d.name) for d in done])
        except Exception as exc:
            # Left for the reconciler: parts beyond the offset, or the lease running out.
            log.warning("den.rollback_incomplete", upload=self.upload_id, error=str(exc))
            self.den.hashes.forget(self.upload_id)
            return
        if self.hasher_at_start is not None:
            self.den.hashes.keep(self.upload_id, self.start_offset, self.hasher_at_start)

    async def _abort_part(self, part: _Part) -> None:
        try:
            await part.writer.abort()
            async with self.den.db.transaction(org_id=self.org_id) as uow:
                await repo.delete_parts(uow.session, self.upload_id, [part.part_no])
        except Exception as exc:
            log.warning("den.part_abort_incomplete", upload=self.upload_id, error=str(exc))
        self.den.hashes.forget(self.upload_id)
        self.hasher = None

    async def _remove(self, victims: list[tuple[int, str, str]]) -> None:
        """Objects first, rows after: a crash in between leaves rows, never orphan bytes."""
        for _, nuid, name in victims:
            await self.den.store.purge(nuid, name)
        async with self.den.db.transaction(org_id=self.org_id) as uow:
            await repo.delete_parts(uow.session, self.upload_id, [v[0] for v in victims])

    def _keep_hasher(self, offset: int) -> None:
        if self.hasher is not None:
            self.den.hashes.keep(self.upload_id, offset, self.hasher)
