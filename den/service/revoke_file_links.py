"""Stop every signed URL of a file working."""

from __future__ import annotations

from contracts.den.models import LinksRevokedV1, RevokeFileLinksV1
from den.adapters import repository as repo
from den.service import lookups
from den.service.context import Caller, Den


async def revoke_file_links(den: Den, caller: Caller, request: RevokeFileLinksV1) -> LinksRevokedV1:
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.file(uow.session, request.file_id)
        count = await repo.revoke_file_links(uow.session, str(row.id), den.now())
    return LinksRevokedV1(file_id=str(row.id), revoked=count)
