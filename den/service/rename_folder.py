"""Rename a folder (its contents follow; nothing stores paths)."""

from __future__ import annotations

from contracts.den.errors import DenErrorCode
from contracts.den.models import FolderUpdatedV1, FolderV1, RenameFolderV1
from contracts.den.subjects import FOLDER_UPDATED
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.domain.names import check_name
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import folder_view


async def rename_folder(den: Den, caller: Caller, request: RenameFolderV1) -> FolderV1:
    name = check_name(request.name)
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.folder(uow.session, request.folder_id)
        if row.name == name:
            return folder_view(row)
        parent = None if row.parent_id is None else str(row.parent_id)
        if await repo.folder_name_taken(uow.session, parent, name, except_id=str(row.id)):
            raise DenError(DenErrorCode.NAME_TAKEN, "a folder with this name exists here")
        folder = folder_view(await repo.update_folder(uow.session, str(row.id), name=name))
        uow.publish(
            den.bus.message(
                FOLDER_UPDATED,
                FolderUpdatedV1(folder=folder, changed=["name"]),
                org_id=caller.org_id,
                actor=caller.actor,
            )
        )
    return folder
