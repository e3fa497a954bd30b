"""Live files across the organisation, by name, with optional filters (keyset pages)."""

from __future__ import annotations

import unicodedata

from contracts.den.models import FileListingV1, ListFilesV1
from den.adapters import repository as repo
from den.domain import cursor as cursors
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import file_view


async def list_files(den: Den, caller: Caller, request: ListFilesV1) -> FileListingV1:
    position = cursors.decode(request.cursor)
    after = None if position is None else (position.key, position.id)
    tag = None if request.tag is None else unicodedata.normalize("NFC", request.tag).strip()
    prefix = request.name_prefix and unicodedata.normalize("NFC", request.name_prefix)
    async with den.db.transaction(org_id=caller.org_id) as uow:
        folder_id = None
        if request.folder_id is not None:
            folder_id = str((await lookups.folder(uow.session, request.folder_id)).id)
        rows = list(
            await repo.find_files(
                uow.session,
                folder_id=folder_id,
                tag=tag,
                name_prefix=prefix or None,
                after=after,
                limit=request.limit + 1,
            )
        )
    next_cursor = None
    if len(rows) > request.limit:
        rows = rows[: request.limit]
        last = rows[-1]
        next_cursor = cursors.encode(cursors.Position(key=last.name, id=str(last.id)))
    urls = den.urls
    return FileListingV1(files=[file_view(r, urls) for r in rows], next_cursor=next_cursor)
