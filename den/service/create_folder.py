"""Create a folder under a parent (or at the root)."""

from __future__ import annotations

from contracts.den.errors import DenErrorCode
from contracts.den.models import CreateFolderV1, FolderCreatedV1, FolderV1
from contracts.den.subjects import FOLDER_CREATED
from contracts.ids import new_id
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.domain.names import check_name
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import folder_view


async def create_folder(den: Den, caller: Caller, request: CreateFolderV1) -> FolderV1:
    name = check_name(request.name)
    async with den.db.transaction(org_id=caller.org_id) as uow:
        parent = await lookups.optional_folder(uow.session, request.parent_id)
        if await repo.folder_name_taken(uow.session, parent, name):
            raise DenError(DenErrorCode.NAME_TAKEN, "a folder with this name exists here")
        row = await repo.insert_folder(
            uow.session,
            id=new_id(),
            org_id=caller.org_id,
            parent_id=parent,
            name=name,
            created_by_kind=caller.actor.kind.value,
            created_by_id=caller.actor.id,
        )
        folder = folder_view(row)
        uow.publish(
            den.bus.message(
                FOLDER_CREATED,
                FolderCreatedV1(folder=folder),
                org_id=caller.org_id,
                actor=caller.actor,
            )
        )
    return folder
