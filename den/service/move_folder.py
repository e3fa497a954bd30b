"""Move a folder under another one, never into itself or its own subtree."""

from __future__ import annotations

from sqlalchemy import text

from contracts.den.errors import DenErrorCode
from contracts.den.models import FolderUpdatedV1, FolderV1, MoveFolderV1
from contracts.den.subjects import FOLDER_UPDATED
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import folder_view

# Two concurrent moves could each pass the cycle check and together make a loop (A into B
# while B goes into A): moves within one organisation take turns.
_MOVE_LOCK = text("select pg_advisory_xact_lock(hashtextextended('den.folder.move.' || :org, 0))")


async def move_folder(den: Den, caller: Caller, request: MoveFolderV1) -> FolderV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        await uow.session.execute(_MOVE_LOCK, {"org": caller.org_id})
        row = await lookups.folder(uow.session, request.folder_id)
        folder_id = str(row.id)
        parent = await lookups.optional_folder(uow.session, request.parent_id)
        current = None if row.parent_id is None else str(row.parent_id)
        if parent == current:
            return folder_view(row)
        if parent is not None and folder_id in await repo.ancestor_ids(uow.session, parent):
            raise DenError(
                DenErrorCode.FOLDER_CYCLE, "a folder cannot move into itself or a subfolder"
            )
        if await repo.folder_name_taken(uow.session, parent, row.name, except_id=folder_id):
            raise DenError(DenErrorCode.NAME_TAKEN, "a folder with this name exists there")
        folder = folder_view(await repo.update_folder(uow.session, folder_id, parent_id=parent))
        uow.publish(
            den.bus.message(
                FOLDER_UPDATED,
                FolderUpdatedV1(folder=folder, changed=["parent_id"]),
                org_id=caller.org_id,
                actor=caller.actor,
            )
        )
    return folder
