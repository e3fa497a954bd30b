"""Rename, retag, publish or unpublish a live file."""

from __future__ import annotations

from typing import Any

from contracts.den.errors import DenErrorCode
from contracts.den.models import FileUpdatedV1, FileV1, UpdateFileV1
from contracts.den.subjects import FILE_UPDATED
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.domain.names import check_name, check_tags
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import file_view


async def update_file(den: Den, caller: Caller, request: UpdateFileV1) -> FileV1:
    name = None if request.name is None else check_name(request.name)
    tags = None if request.tags is None else check_tags(request.tags)
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.live_file(uow.session, request.file_id, lock=True)
        file_id = str(row.id)
        folder_id = None if row.folder_id is None else str(row.folder_id)
        changes: dict[str, Any] = {}
        if name is not None and name != row.name:
            if await repo.file_name_taken(uow.session, folder_id, name, except_id=file_id):
                raise DenError(DenErrorCode.NAME_TAKEN, "a file with this name exists here")
            changes["name"] = name
        if tags is not None and tags != list(row.tags):
            changes["tags"] = tags
        if request.public is not None and request.public != row.public:
            changes["public"] = request.public
        if not changes:
            return file_view(row, den.urls)
        file = file_view(await repo.update_file(uow.session, file_id, **changes), den.urls)
        uow.publish(
            den.bus.message(
                FILE_UPDATED,
                FileUpdatedV1(file=file, changed=sorted(changes)),
                org_id=caller.org_id,
                actor=caller.actor,
            )
        )
    return file
