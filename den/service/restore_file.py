"""Bring a file back from the trash, into its folder (or the root if the folder is gone)."""

from __future__ import annotations

from typing import Any

from contracts.den.errors import DenErrorCode
from contracts.den.models import FileRestoredV1, FileV1, RestoreFileV1
from contracts.den.subjects import FILE_RESTORED
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.domain.names import check_name
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import file_view


async def restore_file(den: Den, caller: Caller, request: RestoreFileV1) -> FileV1:
    wanted = None if request.name is None else check_name(request.name)
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.file(uow.session, request.file_id, lock=True)
        if row.deleted_at is None:
            raise DenError(DenErrorCode.FILE_NOT_DELETED, "the file is not in the trash")
        file_id = str(row.id)
        folder_id = None if row.folder_id is None else str(row.folder_id)
        name = wanted or row.name
        if await repo.file_name_taken(uow.session, folder_id, name, except_id=file_id):
            raise DenError(
                DenErrorCode.NAME_TAKEN,
                "a live file has this name now: restore it under another name",
            )
        changes: dict[str, Any] = {"deleted_at": None, "name": name}
        file = file_view(await repo.update_file(uow.session, file_id, **changes), den.urls)
        uow.publish(
            den.bus.message(
                FILE_RESTORED, FileRestoredV1(file=file), org_id=caller.org_id, actor=caller.actor
            )
        )
    return file
