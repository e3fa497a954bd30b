"""Move a live file to another folder (or the root)."""

from __future__ import annotations

from contracts.den.errors import DenErrorCode
from contracts.den.models import FileUpdatedV1, FileV1, MoveFileV1
from contracts.den.subjects import FILE_UPDATED
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import file_view


async def move_file(den: Den, caller: Caller, request: MoveFileV1) -> FileV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.live_file(uow.session, request.file_id, lock=True)
        file_id = str(row.id)
        target = await lookups.optional_folder(uow.session, request.folder_id)
        current = None if row.folder_id is None else str(row.folder_id)
        if target == current:
            return file_view(row, den.urls)
        if await repo.file_name_taken(uow.session, target, row.name, except_id=file_id):
            raise DenError(DenErrorCode.NAME_TAKEN, "a file with this name exists there")
        file = file_view(await repo.update_file(uow.session, file_id, folder_id=target), den.urls)
        uow.publish(
            den.bus.message(
                FILE_UPDATED,
                FileUpdatedV1(file=file, changed=["folder_id"]),
                org_id=caller.org_id,
                actor=caller.actor,
            )
        )
    return file
