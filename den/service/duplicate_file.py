"""Copy a file. The copy shares the original's blob: bytes are immutable once stored, and a
blob is only removed when no file (live or trashed) points at it any more, so sharing is safe
and costs no storage (the quota counts stored bytes)."""

from __future__ import annotations

from contracts.den.errors import DenErrorCode
from contracts.den.models import DuplicateFileV1, FileCreatedV1, FileV1
from contracts.den.subjects import FILE_CREATED
from contracts.ids import new_id
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.domain.names import check_name, first_free, split_extension
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import file_view


async def duplicate_file(den: Den, caller: Caller, request: DuplicateFileV1) -> FileV1:
    wanted = None if request.name is None else check_name(request.name)
    async with den.db.transaction(org_id=caller.org_id) as uow:
        # Locking the original keeps a concurrent purge from removing the blob under us.
        source = await lookups.live_file(uow.session, request.file_id, lock=True)
        folder_id = await lookups.optional_folder(uow.session, request.folder_id)
        if wanted is not None:
            if await repo.file_name_taken(uow.session, folder_id, wanted):
                raise DenError(DenErrorCode.NAME_TAKEN, "a file with this name exists there")
            name = wanted
        else:
            taken = await repo.live_names_like(
                uow.session, folder_id, split_extension(source.name)[0]
            )
            name = first_free(source.name, taken.__contains__, label="copy")
        row = await repo.insert_file(
            uow.session,
            id=new_id(),
            org_id=caller.org_id,
            folder_id=folder_id,
            name=name,
            blob_id=str(source.blob_id),
            size=source.size,
            sha256=source.sha256,
            content_type=source.content_type,
            tags=list(source.tags),
            public=source.public,
            created_by_kind=caller.actor.kind.value,
            created_by_id=caller.actor.id,
        )
        file = file_view(row, den.urls)
        event = FileCreatedV1(file=file, copied_from=str(source.id))
        uow.publish(den.bus.message(FILE_CREATED, event, org_id=caller.org_id, actor=caller.actor))
    return file
