"""Abandon an upload (tus termination, a failed single-request upload, or over the bus)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from contracts.den.models import CancelUploadV1, UploadState, UploadV1
from den.adapters import repository as repo
from den.service import lookups
from den.service.context import Caller, Den
from den.service.purge_blob import purge_blob
from den.service.start_upload import closed
from den.service.views import upload_view

ACTIVE = (UploadState.AUTHORIZED.value, UploadState.RECEIVING.value)


async def end_upload(
    den: Den, org_id: str, upload_id: str, *, state: UploadState, strict: bool = True
) -> Row[Any]:
    """Move an active upload to `state`, release its reservation, remove its bytes."""
    blob_id = None
    async with den.db.transaction(org_id=org_id) as uow:
        row = await lookups.upload(uow.session, upload_id, lock=True)
        upload_id = str(row.id)
        if row.state not in ACTIVE:
            if strict:
                raise closed(row.state)
            return row
        row = await repo.update_upload(
            uow.session,
            upload_id,
            state=state.value,
            reserved_bytes=0,
            lease_owner=None,
            lease_until=None,
        )
        blob = await repo.get_blob(uow.session, upload_id, lock=True)
        if blob is not None and blob.state == "writing":
            await repo.update_blob(uow.session, upload_id, state="purging")
            await repo.schedule_sweep(uow.session, org_id, den.now())
            blob_id = upload_id
    den.hashes.forget(upload_id)
    if blob_id is not None:
        await purge_blob(den, org_id, blob_id)
    return row


async def cancel_upload(den: Den, caller: Caller, request: CancelUploadV1) -> UploadV1:
    row = await end_upload(den, caller.org_id, request.upload_id, state=UploadState.CANCELLED)
    return upload_view(row)
