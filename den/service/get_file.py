"""One file's metadata (also while it is in the trash)."""

from __future__ import annotations

from contracts.den.models import FileV1, GetFileV1
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import file_view


async def get_file(den: Den, caller: Caller, request: GetFileV1) -> FileV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        return file_view(await lookups.file(uow.session, request.file_id), den.urls)
