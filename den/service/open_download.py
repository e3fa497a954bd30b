"""Decide whether a download may be served, and gather what serving it needs.

A public file is served to anyone who has its URL; a private one only through a link: a URL
whose signature binds org, file, link, method and expiry, whose link is recorded, unrevoked and
for this very file. A file in the trash is served to nobody. The org in the path scopes every
query (row-level security), so no id of another org can be reached from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.den.errors import DenErrorCode
from contracts.ids import is_token
from den.adapters import repository as repo
from den.adapters.objectstore import StoredPart
from den.domain.errors import DenError
from den.domain.signing import parse_expires
from den.service import lookups
from den.service.complete_upload import stored_parts
from den.service.context import Den
from den.service.urls import FILE, claims


@dataclass(frozen=True, slots=True)
class Download:
    file_id: str
    name: str
    size: int
    sha256: bytes
    content_type: str
    created_at: datetime
    public: bool
    attachment: bool
    parts: list[StoredPart]

    @property
    def etag(self) -> str:
        return f'"{self.sha256.hex()}"'


def _not_found() -> DenError:
    return DenError(DenErrorCode.FILE_NOT_FOUND, "no such file")


def _refused(message: str) -> DenError:
    return DenError(DenErrorCode.INVALID_SIGNATURE, message)


async def open_download(
    den: Den,
    org_id: str,
    file_id: str,
    *,
    method: str,
    link_id: str | None,
    expires: str | None,
    signature: str | None,
) -> Download:
    if not is_token(org_id) or repo.as_uuid(file_id) is None:
        raise _not_found()
    signed = link_id is not None or signature is not None or expires is not None
    exp = 0
    if signed:
        if link_id is None or repo.as_uuid(link_id) is None:
            raise _refused("a signed URL names its link")
        exp = parse_expires(expires)
        now = int(den.now().timestamp())
        den.signer.verify(
            claims(FILE, org_id, file_id, link_id, exp), signature, method=method, now=now
        )
    async with den.db.transaction(org_id=org_id) as uow:
        row = await lookups.file(uow.session, file_id)
        if row.deleted_at is not None:
            raise DenError(DenErrorCode.FILE_DELETED, "the file is in the trash")
        attachment = False
        if signed:
            assert link_id is not None
            link = await repo.get_link(uow.session, link_id)
            if link is None or str(link.file_id) != str(row.id):
                raise _refused("this link does not exist")
            if int(link.expires_at.timestamp()) != exp:
                raise _refused("this link's expiry was altered")
            if link.revoked_at is not None:
                raise DenError(DenErrorCode.LINK_REVOKED, "this link was revoked")
            attachment = bool(link.attachment)
        elif not row.public:
            raise _refused("this file is private: it is served through signed links only")
        rows = await repo.parts_of(uow.session, str(row.blob_id), written=True)
    parts = [p for p in stored_parts(rows) if p.offset < row.size]
    return Download(
        file_id=str(row.id),
        name=row.name,
        size=int(row.size),
        sha256=bytes(row.sha256),
        content_type=row.content_type,
        created_at=row.created_at,
        public=bool(row.public),
        attachment=attachment,
        parts=parts,
    )
