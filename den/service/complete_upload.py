"""Finish an upload whose bytes are all stored: digest, sniffed type, the file row, the event.

The digest comes from the hash the receiving process kept, or is recomputed from the stored
parts (after a restart, or when another replica received earlier parts); the content type is
always sniffed from the stored first bytes. Everything that makes the file visible (blob stored,
file row, usage, upload completed, FileCreated in the outbox) commits in one transaction, so a
crash before it leaves a receiving upload with every byte stored, which the next request on it
or the reconciler completes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Row

from contracts.den.errors import DenErrorCode
from contracts.den.models import ConflictPolicy, FileCreatedV1, UploadState
from contracts.den.subjects import FILE_CREATED
from contracts.envelope import Actor, ActorKind
from contracts.ids import new_id
from den.adapters import repository as repo
from den.adapters.objectstore import StoredPart
from den.domain.errors import DenError
from den.domain.names import first_free, split_extension
from den.domain.sniff import SNIFF_BYTES, sniff
from den.service import lookups
from den.service.context import Den
from den.service.purge_blob import purge_blob
from den.service.views import file_view
from shared.logging import get_logger

log = get_logger(__name__)


def stored_parts(rows: Any) -> list[StoredPart]:
    return [
        StoredPart(
            nuid=r.nuid,
            offset=int(r.byte_offset),
            size=int(r.size),
            chunk_bytes=int(r.chunk_bytes),
            chunk_seqs=list(r.chunk_seqs),
            sha256=bytes(r.sha256),
        )
        for r in rows
    ]


def _contiguous(parts: list[StoredPart], length: int) -> bool:
    position = 0
    for part in parts:
        if part.offset != position:
            return False
        position += part.size
    return position == length


async def complete_upload(den: Den, org_id: str, upload_id: str) -> Row[Any]:
    """The upload row once completed (or as it is, if it is not ready or already done)."""
    async with den.db.transaction(org_id=org_id) as uow:
        row = await lookups.upload(uow.session, upload_id)
        upload_id = str(row.id)
        ready = row.state == UploadState.RECEIVING.value and row.byte_offset == row.length
        if not ready:
            return row
        parts = stored_parts(await repo.parts_of(uow.session, upload_id, written=True))
    length = int(row.length)
    parts = [p for p in parts if p.offset < length]
    if not _contiguous(parts, length):
        raise DenError(DenErrorCode.INTEGRITY, "the stored parts do not cover the upload")
    head = await _read(den, parts, 0, min(SNIFF_BYTES, length) - 1) if length else b""
    running = den.hashes.take(upload_id, length)
    if running is None:
        running = hashlib.sha256()
        if length:
            async for piece in den.store.read(parts, 0, length - 1):
                running.update(piece)
    digest = running.digest()
    content_type = sniff(head, row.name)
    return await _commit(den, org_id, upload_id, digest, content_type)


async def _read(den: Den, parts: list[StoredPart], start: int, end: int) -> bytes:
    out = bytearray()
    async for piece in den.store.read(parts, start, end):
        out += piece
    return bytes(out)


async def _commit(
    den: Den, org_id: str, upload_id: str, digest: bytes, content_type: str
) -> Row[Any]:
    failed_blob = None
    async with den.db.transaction(org_id=org_id) as uow:
        row = await lookups.upload(uow.session, upload_id, lock=True)
        if row.state != UploadState.RECEIVING.value or row.byte_offset != row.length:
            return row
        folder_id = None if row.folder_id is None else str(row.folder_id)
        if folder_id is not None and await repo.get_folder(uow.session, folder_id) is None:
            folder_id = None  # unreachable while folders with uploads cannot be deleted
        name = row.name
        if await repo.file_name_taken(uow.session, folder_id, name):
            if row.on_conflict == ConflictPolicy.FAIL.value:
                failed_blob = upload_id
                row = await repo.update_upload(
                    uow.session,
                    upload_id,
                    state=UploadState.FAILED.value,
                    failure=DenErrorCode.NAME_TAKEN.value,
                    reserved_bytes=0,
                    lease_owner=None,
                    lease_until=None,
                )
                await repo.update_blob(uow.session, upload_id, state="purging")
                await repo.schedule_sweep(uow.session, org_id, den.now())
            else:
                taken = await repo.live_names_like(uow.session, folder_id, split_extension(name)[0])
                name = first_free(name, taken.__contains__)
        if failed_blob is None:
            length = int(row.length)
            await repo.lock_usage(uow.session, org_id)
            await repo.add_used(uow.session, org_id, length)
            await repo.update_blob(
                uow.session,
                upload_id,
                state="stored",
                size=length,
                sha256=digest,
                content_type=content_type,
                stored_at=den.now(),
            )
            file_row = await repo.insert_file(
                uow.session,
                id=new_id(),
                org_id=org_id,
                folder_id=folder_id,
                name=name,
                blob_id=upload_id,
                size=length,
                sha256=digest,
                content_type=content_type,
                tags=list(row.tags),
                public=row.public,
                created_by_kind=row.created_by_kind,
                created_by_id=row.created_by_id,
            )
            row = await repo.update_upload(
                uow.session,
                upload_id,
                state=UploadState.COMPLETED.value,
                file_id=str(file_row.id),
                reserved_bytes=0,
                lease_owner=None,
                lease_until=None,
            )
            actor = Actor(kind=ActorKind(row.created_by_kind), id=row.created_by_id)
            event = FileCreatedV1(file=file_view(file_row, den.urls), upload_id=upload_id)
            uow.publish(den.bus.message(FILE_CREATED, event, org_id=org_id, actor=actor))
    if failed_blob is not None:
        await purge_blob(den, org_id, failed_blob)
        raise DenError(DenErrorCode.NAME_TAKEN, "a file with this name appeared meanwhile")
    return row
