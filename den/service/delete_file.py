"""Move a file to the trash: it is no longer served (not even through signed links). The
reconciler purges it once the trash retention has passed."""

from __future__ import annotations

from datetime import timedelta

from contracts.den.models import DeleteFileV1, FileDeletedV1, FileV1
from contracts.den.subjects import FILE_DELETED
from den.adapters import repository as repo
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import file_view


async def delete_file(den: Den, caller: Caller, request: DeleteFileV1) -> FileV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.file(uow.session, request.file_id, lock=True)
        if row.deleted_at is not None:
            return file_view(row, den.urls)
        now = den.now()
        row = await repo.update_file(uow.session, str(row.id), deleted_at=now)
        retention = den.settings.trash_retention_s
        if retention:
            await repo.schedule_sweep(
                uow.session, caller.org_id, now + timedelta(seconds=retention)
            )
        file = file_view(row, den.urls)
        uow.publish(
            den.bus.message(
                FILE_DELETED, FileDeletedV1(file=file), org_id=caller.org_id, actor=caller.actor
            )
        )
    return file
