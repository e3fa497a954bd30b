"""Progress and outcome of an upload."""

from __future__ import annotations

from contracts.den.models import GetUploadV1, UploadV1
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import upload_view


async def get_upload(den: Den, caller: Caller, request: GetUploadV1) -> UploadV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        return upload_view(await lookups.upload(uow.session, request.upload_id))
