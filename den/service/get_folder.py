"""One folder's metadata."""

from __future__ import annotations

from contracts.den.models import FolderV1, GetFolderV1
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import folder_view


async def get_folder(den: Den, caller: Caller, request: GetFolderV1) -> FolderV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        return folder_view(await lookups.folder(uow.session, request.folder_id))
