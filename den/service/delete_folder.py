"""Delete an empty folder; files in the trash that lived there fall back to the root."""

from __future__ import annotations

from contracts.den.errors import DenErrorCode
from contracts.den.models import DeleteFolderV1, FolderDeletedV1
from contracts.den.subjects import FOLDER_DELETED
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.service import lookups
from den.service.context import Caller, Den


async def delete_folder(den: Den, caller: Caller, request: DeleteFolderV1) -> FolderDeletedV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.folder(uow.session, request.folder_id)
        folder_id = str(row.id)
        # Locked so no file or upload can be added to it between the check and the delete.
        await repo.lock_folder(uow.session, folder_id)
        if not await repo.folder_is_empty(uow.session, folder_id):
            raise DenError(
                DenErrorCode.FOLDER_NOT_EMPTY,
                "the folder holds subfolders, files or uploads in progress",
            )
        await repo.delete_folder(uow.session, folder_id)
        event = FolderDeletedV1(
            folder_id=folder_id,
            parent_id=None if row.parent_id is None else str(row.parent_id),
            name=row.name,
            deleted_at=den.now(),
        )
        uow.publish(
            den.bus.message(FOLDER_DELETED, event, org_id=caller.org_id, actor=caller.actor)
        )
    return event
