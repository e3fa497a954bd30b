"""Stop one signed URL working (idempotent)."""

from __future__ import annotations

from contracts.den.errors import DenErrorCode
from contracts.den.models import LinkV1, RevokeLinkV1
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.service.context import Caller, Den
from den.service.views import link_view


async def revoke_link(den: Den, caller: Caller, request: RevokeLinkV1) -> LinkV1:
    key = repo.as_uuid(request.link_id)
    async with den.db.transaction(org_id=caller.org_id) as uow:
        if key is None or await repo.get_link(uow.session, key) is None:
            raise DenError(DenErrorCode.LINK_NOT_FOUND, "no such link")
        return link_view(await repo.revoke_link(uow.session, key), den.urls)
