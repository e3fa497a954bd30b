"""Folders over the bus: create, rename, move, list with cursors, delete; all per org."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from contracts.den import subjects as s
from contracts.den.errors import DenErrorCode
from contracts.den.models import (
    CreateFolderV1,
    DeleteFolderV1,
    GetFolderV1,
    ListFolderV1,
    MoveFolderV1,
    RenameFolderV1,
)
from contracts.envelope import Actor, ActorKind
from contracts.subject import Subject
from shared.bus import RemoteError
from tests.den.conftest import OTHER_ORG, DenClient


async def _code_of(awaitable: object) -> str:
    with pytest.raises(RemoteError) as exc:
        await awaitable  # type: ignore[misc]
    return exc.value.code


async def test_folder_tree_lifecycle(den: DenClient) -> None:
    docs = await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="Docs"))
    assert docs.parent_id is None
    assert docs.name == "Docs"
    assert docs.created_by.kind is ActorKind.USER
    q3 = await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="Q3", parent_id=docs.folder_id))
    assert q3.parent_id == docs.folder_id

    # Names are unique among siblings, not globally.
    assert await _code_of(den.ask(s.FOLDER_CREATE, CreateFolderV1(name="Docs"))) == "den.name_taken"
    await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="Docs", parent_id=q3.folder_id))

    renamed = await den.ask(s.FOLDER_RENAME, RenameFolderV1(folder_id=q3.folder_id, name="Q4"))
    assert renamed.name == "Q4"
    assert (await den.ask(s.FOLDER_GET, GetFolderV1(folder_id=q3.folder_id))).name == "Q4"

    # A folder cannot move into itself or below itself.
    for target in (docs.folder_id, q3.folder_id):
        code = await _code_of(
            den.ask(s.FOLDER_MOVE, MoveFolderV1(folder_id=docs.folder_id, parent_id=target))
        )
        assert code == DenErrorCode.FOLDER_CYCLE
    moved = await den.ask(s.FOLDER_MOVE, MoveFolderV1(folder_id=q3.folder_id, parent_id=None))
    assert moved.parent_id is None

    # Only empty folders go.
    code = await _code_of(den.ask(s.FOLDER_DELETE, DeleteFolderV1(folder_id=q3.folder_id)))
    assert code == DenErrorCode.FOLDER_NOT_EMPTY
    gone = await den.ask(s.FOLDER_DELETE, DeleteFolderV1(folder_id=docs.folder_id))
    assert gone.folder_id == docs.folder_id
    code = await _code_of(den.ask(s.FOLDER_GET, GetFolderV1(folder_id=docs.folder_id)))
    assert code == DenErrorCode.FOLDER_NOT_FOUND


async def test_listing_pages_through_folders_then_files(den: DenClient) -> None:
    parent = await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="p"))
    for name in ("b", "a", "c"):
        await den.ask(s.FOLDER_CREATE, CreateFolderV1(name=name, parent_id=parent.folder_id))
    for name in ("z.txt", "y.txt"):
        await den.put(name.encode(), name=name, folder_id=parent.folder_id)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await den.ask(
            s.FOLDER_LIST, ListFolderV1(folder_id=parent.folder_id, cursor=cursor, limit=2)
        )
        assert page.folder is not None
        assert page.folder.folder_id == parent.folder_id
        seen += [f.name for f in page.folders] + [f.name for f in page.files]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["a", "b", "c", "y.txt", "z.txt"]
    assert pages == 3
    root = await den.ask(s.FOLDER_LIST, ListFolderV1())
    assert [f.name for f in root.folders] == ["p"]
    assert root.files == []
    code = await _code_of(den.ask(s.FOLDER_LIST, ListFolderV1(cursor="forged")))
    assert code == DenErrorCode.INVALID_CURSOR


async def test_another_orgs_folders_do_not_exist(den: DenClient) -> None:
    mine = await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="private"))
    requests: list[tuple[Any, Subject[Any, Any]]] = [
        (GetFolderV1(folder_id=mine.folder_id), s.FOLDER_GET),
        (RenameFolderV1(folder_id=mine.folder_id, name="x"), s.FOLDER_RENAME),
        (DeleteFolderV1(folder_id=mine.folder_id), s.FOLDER_DELETE),
        (ListFolderV1(folder_id=mine.folder_id), s.FOLDER_LIST),
        (CreateFolderV1(name="inside", parent_id=mine.folder_id), s.FOLDER_CREATE),
    ]
    for request, subject in requests:
        code = await _code_of(den.ask(subject, request, org=OTHER_ORG))
        assert code == DenErrorCode.FOLDER_NOT_FOUND
    assert (await den.ask(s.FOLDER_LIST, ListFolderV1(), org=OTHER_ORG)).folders == []
    assert (await den.ask(s.FOLDER_GET, GetFolderV1(folder_id=mine.folder_id))).name == "private"


async def test_bad_input_changes_nothing(den: DenClient) -> None:
    for name in ("../etc", "a/b", ".", "x\x00y", "\u202etxt.exe"):
        code = await _code_of(den.ask(s.FOLDER_CREATE, CreateFolderV1(name=name)))
        assert code == DenErrorCode.INVALID_NAME
    for folder_id in ("not-a-uuid", "0190b5b0-0000-7000-8000-000000000000"):
        code = await _code_of(den.ask(s.FOLDER_GET, GetFolderV1(folder_id=folder_id)))
        assert code == DenErrorCode.FOLDER_NOT_FOUND
    code = await _code_of(den.ask(s.FOLDER_CREATE, CreateFolderV1(name="x"), org=None))
    assert code == DenErrorCode.ORG_REQUIRED
    assert (await den.ask(s.FOLDER_LIST, ListFolderV1())).folders == []


async def test_changes_are_published_after_commit(den: DenClient) -> None:
    events = await den.subscribe(s.FOLDER_CREATED)
    folder = await den.ask(
        s.FOLDER_CREATE,
        CreateFolderV1(name="evented"),
        actor=Actor(kind=ActorKind.AGENT, id="file_storage"),
    )
    event = await events.next()
    assert event.folder == folder
    assert event.folder.created_by.kind is ActorKind.AGENT


async def test_concurrent_creations_of_one_name_yield_one_folder(den: DenClient) -> None:
    results = await asyncio.gather(
        *(den.ask(s.FOLDER_CREATE, CreateFolderV1(name="race")) for _ in range(6)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, RemoteError)]
    assert len(created) == 1
    assert len(refused) == 5
    assert {r.code for r in refused} == {DenErrorCode.NAME_TAKEN}
