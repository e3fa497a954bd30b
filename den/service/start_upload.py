"""Turn an authorised upload into one receiving bytes: its name, its length, its reservation.

Called by the tus creation request (POST) and by a single-request upload (PUT). Repeating a
tus creation for the same upload with the same length is answered as the first one was (a
client whose response got lost retries), which is why it returns the row rather than failing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from contracts.den.errors import DenErrorCode
from contracts.den.models import UploadState
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.domain.names import check_name
from den.service import lookups
from den.service.context import Den
from den.service.reserve import reserve_exactly


def closed(state: str) -> DenError:
    return DenError(DenErrorCode.UPLOAD_CLOSED, f"the upload is {state}")


async def start_upload(
    den: Den,
    org_id: str,
    upload_id: str,
    *,
    length: int | None,
    name: str | None,
    retry_ok: bool,
) -> Row[Any]:
    async with den.db.transaction(org_id=org_id) as uow:
        row = await lookups.upload(uow.session, upload_id, lock=True)
        if row.expires_at <= den.now():
            raise closed("expired")
        if row.state == UploadState.RECEIVING.value and retry_ok and row.length == length:
            return row
        if row.state != UploadState.AUTHORIZED.value:
            raise closed(row.state)
        if length is not None and length > row.max_bytes:
            raise DenError(
                DenErrorCode.TOO_LARGE,
                f"the file exceeds the upload limit of {row.max_bytes} bytes",
                details={"max_bytes": int(row.max_bytes)},
            )
        chosen = row.name if row.name is not None else name
        if chosen is None:
            raise DenError(DenErrorCode.INVALID_NAME, "the upload needs a file name")
        chosen = check_name(chosen)
        key = str(row.id)
        if length is not None:
            await reserve_exactly(
                uow.session, org_id, key, length, den.settings.default_quota_bytes
            )
        await repo.insert_blob(uow.session, id=key, org_id=org_id, state="writing")
        return await repo.update_upload(
            uow.session,
            key,
            state=UploadState.RECEIVING.value,
            name=chosen,
            length=length,
            reserved_bytes=length or 0,
        )
