"""Authorise one upload: a pending upload row and the signed URLs that may fill it."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.den.errors import DenErrorCode
from contracts.den.models import (
    AuthorizeUploadV1,
    ConflictPolicy,
    UploadAuthorizationV1,
    UploadState,
)
from contracts.ids import new_id
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.domain.names import check_name, check_tags
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import upload_view


def lifetime_of(den: Den, requested: int | None, default: int) -> int:
    lifetime = default if requested is None else requested
    if lifetime > den.settings.max_link_lifetime_s:
        raise DenError(
            DenErrorCode.INVALID_LIFETIME,
            f"at most {den.settings.max_link_lifetime_s} seconds",
            details={"max_lifetime_s": den.settings.max_link_lifetime_s},
        )
    return lifetime


async def authorize_upload(
    den: Den, caller: Caller, request: AuthorizeUploadV1
) -> UploadAuthorizationV1:
    name = None if request.name is None else check_name(request.name)
    tags = check_tags(request.tags)
    cap = den.settings.max_upload_bytes
    max_bytes = cap if request.max_bytes is None else min(request.max_bytes, cap)
    lifetime = lifetime_of(
        den,
        request.lifetime_s,
        min(den.settings.upload_lifetime_s, den.settings.max_link_lifetime_s),
    )
    expires = int(den.now().timestamp()) + lifetime
    expires_at = datetime.fromtimestamp(expires, UTC)
    upload_id = new_id()
    async with den.db.transaction(org_id=caller.org_id) as uow:
        folder_id = await lookups.optional_folder(uow.session, request.folder_id)
        if (
            name is not None
            and request.on_conflict is ConflictPolicy.FAIL
            and await repo.file_name_taken(uow.session, folder_id, name)
        ):
            raise DenError(DenErrorCode.NAME_TAKEN, "a file with this name exists here")
        row = await repo.insert_upload(
            uow.session,
            id=upload_id,
            org_id=caller.org_id,
            state=UploadState.AUTHORIZED.value,
            folder_id=folder_id,
            name=name,
            public=request.public,
            tags=tags,
            on_conflict=request.on_conflict.value,
            max_bytes=max_bytes,
            expires_at=expires_at,
            created_by_kind=caller.actor.kind.value,
            created_by_id=caller.actor.id,
        )
        await repo.schedule_sweep(uow.session, caller.org_id, expires_at)
    urls = den.urls
    return UploadAuthorizationV1(
        upload=upload_view(row),
        create_url=urls.upload_create(caller.org_id, upload_id, expires),
        put_url=urls.upload_put(caller.org_id, upload_id, expires),
        expires_at=expires_at,
    )
