"""Files in the trash, most recently deleted first (keyset pages)."""

from __future__ import annotations

from datetime import datetime

from contracts.den.errors import DenErrorCode
from contracts.den.models import FileListingV1, ListTrashV1
from den.adapters import repository as repo
from den.domain import cursor as cursors
from den.domain.errors import DenError
from den.service.context import Caller, Den
from den.service.views import file_view


async def list_trash(den: Den, caller: Caller, request: ListTrashV1) -> FileListingV1:
    position = cursors.decode(request.cursor, sections=("trash",))
    after = None
    if position is not None:
        try:
            after = (datetime.fromisoformat(position.key), position.id)
        except ValueError:
            raise DenError(
                DenErrorCode.INVALID_CURSOR, "this cursor was not issued by den"
            ) from None
    async with den.db.transaction(org_id=caller.org_id) as uow:
        rows = list(await repo.trashed_files(uow.session, after, request.limit + 1))
    next_cursor = None
    if len(rows) > request.limit:
        rows = rows[: request.limit]
        last = rows[-1]
        next_cursor = cursors.encode(
            cursors.Position(section="trash", key=last.deleted_at.isoformat(), id=str(last.id))
        )
    urls = den.urls
    return FileListingV1(files=[file_view(r, urls) for r in rows], next_cursor=next_cursor)
