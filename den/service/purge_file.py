"""Delete a file for good. Its bytes go when no other file shares its blob."""

from __future__ import annotations

from contracts.den.models import FilePurgedV1, PurgeFileV1
from contracts.den.subjects import FILE_PURGED
from den.adapters import repository as repo
from den.service import lookups
from den.service.context import Caller, Den
from den.service.purge_blob import purge_blob


async def purge_file(den: Den, caller: Caller, request: PurgeFileV1) -> FilePurgedV1:
    orphaned = None
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.file(uow.session, request.file_id, lock=True)
        file_id, blob_id = str(row.id), str(row.blob_id)
        await repo.delete_file(uow.session, file_id)
        blob = await repo.get_blob(uow.session, blob_id, lock=True)
        if blob is not None and not await repo.blob_is_referenced(uow.session, blob_id):
            await repo.update_blob(uow.session, blob_id, state="purging")
            await repo.lock_usage(uow.session, caller.org_id)
            await repo.add_used(uow.session, caller.org_id, -int(blob.size or 0))
            await repo.schedule_sweep(uow.session, caller.org_id, den.now())
            orphaned = blob_id
        event = FilePurgedV1(
            file_id=file_id,
            folder_id=None if row.folder_id is None else str(row.folder_id),
            name=row.name,
            size=row.size,
            purged_at=den.now(),
        )
        uow.publish(den.bus.message(FILE_PURGED, event, org_id=caller.org_id, actor=caller.actor))
    if orphaned is not None:
        await purge_blob(den, caller.org_id, orphaned)
    return event
