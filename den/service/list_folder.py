"""A folder's contents, a page at a time: its subfolders by name, then its live files by name.

Keyset pagination (the cursor is the last row's name and id), so pages stay correct and cheap
while entries are added or removed between calls.
"""

from __future__ import annotations

from contracts.den.models import FolderListingV1, ListFolderV1
from den.adapters import repository as repo
from den.domain import cursor as cursors
from den.service import lookups
from den.service.context import Caller, Den
from den.service.views import file_view, folder_view

_SECTIONS = ("folders", "files")


async def list_folder(den: Den, caller: Caller, request: ListFolderV1) -> FolderListingV1:
    position = cursors.decode(request.cursor, sections=_SECTIONS)
    limit = request.limit
    urls = den.urls
    async with den.db.transaction(org_id=caller.org_id) as uow:
        folder = None
        folder_id = None
        if request.folder_id is not None:
            row = await lookups.folder(uow.session, request.folder_id)
            folder, folder_id = folder_view(row), str(row.id)
        folder_rows = []
        if position is None or position.section == "folders":
            after = None if position is None else (position.key, position.id)
            folder_rows = list(await repo.child_folders(uow.session, folder_id, after, limit + 1))
        file_rows = []
        room = limit + 1 - len(folder_rows)
        if room > 0:
            after = (
                (position.key, position.id)
                if position is not None and position.section == "files"
                else None
            )
            file_rows = list(await repo.files_in_folder(uow.session, folder_id, after, room))
    more = len(folder_rows) + len(file_rows) > limit
    if more:
        if file_rows:
            file_rows = file_rows[:-1]
        else:
            folder_rows = folder_rows[:-1]
    next_cursor = None
    if more:
        if file_rows:
            last = file_rows[-1]
            next_cursor = cursors.encode(
                cursors.Position(section="files", key=last.name, id=str(last.id))
            )
        else:
            last = folder_rows[-1]
            next_cursor = cursors.encode(
                cursors.Position(section="folders", key=last.name, id=str(last.id))
            )
    return FolderListingV1(
        folder=folder,
        folders=[folder_view(r) for r in folder_rows],
        files=[file_view(r, urls) for r in file_rows],
        next_cursor=next_cursor,
    )
