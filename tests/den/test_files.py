"""Files over the bus: metadata, update, move, duplicate, trash, restore, purge, quota."""

from __future__ import annotations

import hashlib

import pytest

from contracts.den import subjects as s
from contracts.den.errors import DenErrorCode
from contracts.den.models import (
    AuthorizeUploadV1,
    CreateFolderV1,
    CreateLinkV1,
    DeleteFileV1,
    DuplicateFileV1,
    FileV1,
    GetFileV1,
    GetQuotaV1,
    ListFilesV1,
    ListTrashV1,
    MoveFileV1,
    PurgeFileV1,
    RestoreFileV1,
    SetQuotaV1,
    UpdateFileV1,
)
from contracts.envelope import Actor, ActorKind
from shared.bus import RemoteError
from tests.den.conftest import OTHER_ORG, USER, DenClient, pattern

PNG = b"\x89PNG\r\n\x1a\n" + pattern(3000)
SYSTEM = Actor(kind=ActorKind.SYSTEM, id="billing")


async def _code_of(awaitable: object) -> str:
    with pytest.raises(RemoteError) as exc:
        await awaitable  # type: ignore[misc]
    return exc.value.code


async def test_metadata_is_sniffed_hashed_and_attributed(den: DenClient) -> None:
    folder = await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="img"))
    created = await den.subscribe(s.FILE_CREATED)
    file = await den.put(PNG, name="claims-to-be.txt", folder_id=folder.folder_id, tags=["a", "b"])
    assert file.content_type == "image/png"
    assert file.sha256 == hashlib.sha256(PNG).hexdigest()
    assert file.size == len(PNG)
    assert file.folder_id == folder.folder_id
    assert file.tags == ["a", "b"]
    assert file.created_by == USER
    assert not file.public
    assert file.public_url is None
    assert await den.ask(s.FILE_GET, GetFileV1(file_id=file.file_id)) == file
    event = await created.next()
    assert event.file == file
    assert event.upload_id is not None


async def test_files_record_the_agent_or_user_that_made_them(den: DenClient) -> None:
    agent = Actor(kind=ActorKind.AGENT, id="file_storage")
    auth = await den.ask(s.UPLOAD_AUTHORIZE, AuthorizeUploadV1(name="by-agent.md"), actor=agent)
    response = await den.http.put(auth.put_url, content=b"# report")
    assert response.status_code == 201, response.text
    stored = FileV1.model_validate(response.json())
    assert stored.created_by == agent
    assert (await den.ask(s.FILE_GET, GetFileV1(file_id=stored.file_id))).created_by == agent
    copy = await den.ask(s.FILE_DUPLICATE, DuplicateFileV1(file_id=stored.file_id, folder_id=None))
    assert copy.created_by == USER


async def test_update_move_and_name_clashes(den: DenClient) -> None:
    folder = await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="f"))
    a = await den.put(b"a", name="a.txt")
    b = await den.put(b"b", name="b.txt")
    updated = await den.subscribe(s.FILE_UPDATED)
    renamed = await den.ask(
        s.FILE_UPDATE, UpdateFileV1(file_id=a.file_id, name="c.txt", tags=["x"], public=True)
    )
    assert (renamed.name, renamed.tags, renamed.public) == ("c.txt", ["x"], True)
    assert renamed.public_url is not None
    assert renamed.public_url.endswith(f"/files/{a.file_id}")
    assert sorted((await updated.next()).changed) == ["name", "public", "tags"]
    code = await _code_of(den.ask(s.FILE_UPDATE, UpdateFileV1(file_id=a.file_id, name="b.txt")))
    assert code == DenErrorCode.NAME_TAKEN
    moved = await den.ask(s.FILE_MOVE, MoveFileV1(file_id=b.file_id, folder_id=folder.folder_id))
    assert moved.folder_id == folder.folder_id
    await den.put(b"b2", name="b.txt")
    code = await _code_of(den.ask(s.FILE_MOVE, MoveFileV1(file_id=b.file_id, folder_id=None)))
    assert code == DenErrorCode.NAME_TAKEN
    for bad in ("../x", "a/b", " "):
        code = await _code_of(den.ask(s.FILE_UPDATE, UpdateFileV1(file_id=a.file_id, name=bad)))
        assert code == DenErrorCode.INVALID_NAME
    assert (await den.ask(s.FILE_GET, GetFileV1(file_id=a.file_id))).name == "c.txt"


async def test_duplicates_share_bytes_until_the_last_copy_is_purged(den: DenClient) -> None:
    data = pattern(40_000, seed=7)
    original = await den.put(data, name="report.pdf")
    stored = await den.stored_messages()
    used = (await den.ask(s.QUOTA_GET, GetQuotaV1())).used_bytes
    copy = await den.ask(
        s.FILE_DUPLICATE, DuplicateFileV1(file_id=original.file_id, folder_id=None)
    )
    assert copy.name == "report (copy).pdf"
    assert copy.sha256 == original.sha256
    again = await den.ask(
        s.FILE_DUPLICATE, DuplicateFileV1(file_id=original.file_id, folder_id=None)
    )
    assert again.name == "report (copy 2).pdf"
    assert await den.stored_messages() == stored  # no byte written twice
    assert (await den.ask(s.QUOTA_GET, GetQuotaV1())).used_bytes == used
    for f in (original, copy):
        await den.ask(s.FILE_PURGE, PurgeFileV1(file_id=f.file_id))
    link = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=again.file_id))
    assert (await den.http.get(link.url)).content == data
    assert await den.stored_messages() == stored
    await den.ask(s.FILE_PURGE, PurgeFileV1(file_id=again.file_id))
    assert await den.stored_messages() == 0
    assert (await den.ask(s.QUOTA_GET, GetQuotaV1())).used_bytes == 0


async def test_trash_restore_and_purge(den: DenClient) -> None:
    file = await den.put(b"keep me", name="k.txt")
    link = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id))
    trashed = await den.ask(s.FILE_DELETE, DeleteFileV1(file_id=file.file_id))
    assert trashed.deleted_at is not None
    response = await den.http.get(link.url)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == DenErrorCode.FILE_DELETED
    assert [f.file_id for f in (await den.ask(s.TRASH_LIST, ListTrashV1())).files] == [file.file_id]
    code = await _code_of(den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id)))
    assert code == DenErrorCode.FILE_DELETED
    await den.put(b"newcomer", name="k.txt")
    code = await _code_of(den.ask(s.FILE_RESTORE, RestoreFileV1(file_id=file.file_id)))
    assert code == DenErrorCode.NAME_TAKEN
    restored = await den.ask(s.FILE_RESTORE, RestoreFileV1(file_id=file.file_id, name="k2.txt"))
    assert restored.deleted_at is None
    assert restored.name == "k2.txt"
    assert (await den.http.get(link.url)).content == b"keep me"
    code = await _code_of(den.ask(s.FILE_RESTORE, RestoreFileV1(file_id=file.file_id)))
    assert code == DenErrorCode.FILE_NOT_DELETED
    purged = await den.subscribe(s.FILE_PURGED)
    await den.ask(s.FILE_PURGE, PurgeFileV1(file_id=file.file_id))
    assert (await purged.next()).file_id == file.file_id
    code = await _code_of(den.ask(s.FILE_GET, GetFileV1(file_id=file.file_id)))
    assert code == DenErrorCode.FILE_NOT_FOUND
    assert (await den.http.get(link.url)).status_code == 404


async def test_trash_pages_newest_first(den: DenClient) -> None:
    ids = []
    for i in range(3):
        f = await den.put(b"x", name=f"{i}.txt")
        await den.ask(s.FILE_DELETE, DeleteFileV1(file_id=f.file_id))
        ids.append(f.file_id)
    first = await den.ask(s.TRASH_LIST, ListTrashV1(limit=2))
    second = await den.ask(s.TRASH_LIST, ListTrashV1(limit=2, cursor=first.next_cursor))
    assert [f.file_id for f in first.files + second.files] == ids[::-1]
    assert second.next_cursor is None


async def test_listing_files_by_tag_prefix_and_folder(den: DenClient) -> None:
    folder = await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="f"))
    await den.put(b"1", name="report-1.md", tags=["q3"])
    await den.put(b"2", name="report-2.md", tags=["q3", "draft"], folder_id=folder.folder_id)
    await den.put(b"3", name="notes.md", tags=["q3"])
    await den.put(b"4", name="report_%.md")

    async def names(**filters: object) -> list[str]:
        listing = await den.ask(s.FILE_LIST, ListFilesV1(**filters))  # type: ignore[arg-type]
        return [f.name for f in listing.files]

    assert await names(tag="q3") == ["notes.md", "report-1.md", "report-2.md"]
    assert await names(name_prefix="report-") == ["report-1.md", "report-2.md"]
    assert await names(name_prefix="report_%") == ["report_%.md"]  # LIKE wildcards are literal
    assert await names(folder_id=folder.folder_id) == ["report-2.md"]
    page = await den.ask(s.FILE_LIST, ListFilesV1(limit=3))
    rest = await den.ask(s.FILE_LIST, ListFilesV1(limit=3, cursor=page.next_cursor))
    assert len(page.files) == 3
    assert len(rest.files) == 1
    assert rest.next_cursor is None


async def test_another_orgs_files_do_not_exist(den: DenClient) -> None:
    file = await den.put(b"secret", name="s.txt")
    requests = [
        (s.FILE_GET, GetFileV1(file_id=file.file_id)),
        (s.FILE_UPDATE, UpdateFileV1(file_id=file.file_id, public=True)),
        (s.FILE_MOVE, MoveFileV1(file_id=file.file_id, folder_id=None)),
        (s.FILE_DUPLICATE, DuplicateFileV1(file_id=file.file_id, folder_id=None)),
        (s.FILE_DELETE, DeleteFileV1(file_id=file.file_id)),
        (s.FILE_PURGE, PurgeFileV1(file_id=file.file_id)),
        (s.LINK_CREATE, CreateLinkV1(file_id=file.file_id)),
    ]
    for subject, request in requests:
        code = await _code_of(den.ask(subject, request, org=OTHER_ORG))  # type: ignore[arg-type]
        assert code == DenErrorCode.FILE_NOT_FOUND, subject
    assert (await den.ask(s.FILE_GET, GetFileV1(file_id=file.file_id))).public is False


async def test_quota_is_enforced_exactly(den: DenClient) -> None:
    code = await _code_of(den.ask(s.QUOTA_SET, SetQuotaV1(quota_bytes=1)))
    assert code == DenErrorCode.FORBIDDEN
    quota = await den.ask(s.QUOTA_SET, SetQuotaV1(quota_bytes=100_000), actor=SYSTEM)
    assert quota.quota_bytes == 100_000
    assert quota.used_bytes == 0
    await den.put(pattern(60_000), name="a.bin")
    before = await den.stored_messages()
    auth = await den.authorize(name="b.bin")
    response = await den.http.put(auth.put_url, content=pattern(40_001))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == DenErrorCode.QUOTA_EXCEEDED
    assert await den.stored_messages() == before
    # Streamed without a length, the quota is enforced as bytes arrive.

    async def body() -> object:
        for _ in range(10):
            yield pattern(5000)

    auth = await den.authorize(name="c.bin")
    response = await den.http.put(auth.put_url, content=body())  # type: ignore[arg-type]
    assert response.status_code == 413
    assert response.json()["error"]["code"] == DenErrorCode.QUOTA_EXCEEDED
    assert await den.stored_messages() == before
    exact = await den.put(pattern(40_000), name="exact.bin")
    assert exact.size == 40_000
    usage = await den.ask(s.QUOTA_GET, GetQuotaV1())
    assert (usage.used_bytes, usage.reserved_bytes, usage.available_bytes) == (100_000, 0, 0)
    # Another org has its own quota.
    assert (await den.put(b"x", name="x.bin", org=OTHER_ORG)).size == 1
