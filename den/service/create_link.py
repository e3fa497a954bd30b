"""Issue a signed download URL for one file, recorded so it can be revoked."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.den.models import CreateLinkV1, LinkV1
from contracts.ids import new_id
from den.adapters import repository as repo
from den.service import lookups
from den.service.authorize_upload import lifetime_of
from den.service.context import Caller, Den
from den.service.views import link_view


async def create_link(den: Den, caller: Caller, request: CreateLinkV1) -> LinkV1:
    lifetime = lifetime_of(den, request.lifetime_s, den.settings.default_link_lifetime_s)
    expires_at = datetime.fromtimestamp(int(den.now().timestamp()) + lifetime, UTC)
    async with den.db.transaction(org_id=caller.org_id) as uow:
        row = await lookups.live_file(uow.session, request.file_id)
        link = await repo.insert_link(
            uow.session,
            id=new_id(),
            org_id=caller.org_id,
            file_id=str(row.id),
            attachment=request.attachment,
            expires_at=expires_at,
            created_by_kind=caller.actor.kind.value,
            created_by_id=caller.actor.id,
        )
    return link_view(link, den.urls)
