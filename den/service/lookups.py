"""Loading what a request names, with the error a caller should see when it is not there.

Ids that are not UUIDs cannot exist, so they get the same not-found answer as unknown ones;
rows of other organisations are invisible (row-level security), so another org's id is simply
not found either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.den.errors import DenErrorCode
from den.adapters import repository as repo
from den.domain.errors import DenError


async def folder(session: AsyncSession, folder_id: str, *, share: bool = False) -> Row[Any]:
    key = repo.as_uuid(folder_id)
    row = None if key is None else await repo.get_folder(session, key, share=share)
    if row is None:
        raise DenError(DenErrorCode.FOLDER_NOT_FOUND, "no such folder")
    return row


async def optional_folder(session: AsyncSession, folder_id: str | None) -> str | None:
    """The canonical id of a target folder (None: the root), checked to exist and held
    against deletion until the transaction ends."""
    if folder_id is None:
        return None
    return str((await folder(session, folder_id, share=True)).id)


async def file(session: AsyncSession, file_id: str, *, lock: bool = False) -> Row[Any]:
    key = repo.as_uuid(file_id)
    row = None if key is None else await repo.get_file(session, key, lock=lock)
    if row is None:
        raise DenError(DenErrorCode.FILE_NOT_FOUND, "no such file")
    return row


async def live_file(session: AsyncSession, file_id: str, *, lock: bool = False) -> Row[Any]:
    row = await file(session, file_id, lock=lock)
    if row.deleted_at is not None:
        raise DenError(DenErrorCode.FILE_DELETED, "the file is in the trash")
    return row


async def upload(session: AsyncSession, upload_id: str, *, lock: bool = False) -> Row[Any]:
    key = repo.as_uuid(upload_id)
    row = None if key is None else await repo.get_upload(session, key, lock=lock)
    if row is None:
        raise DenError(DenErrorCode.UPLOAD_NOT_FOUND, "no such upload")
    return row
