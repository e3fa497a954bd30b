"""Crashes between storing bytes and recording them leave nothing behind once reconciled.

The real thing first: den as its own process, killed with SIGKILL in the middle of an upload;
then the precise critical points, reached in-process by stopping a writer exactly there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from nats.js import api
from sqlalchemy import text

from contracts.den import HEALTH
from contracts.den import subjects as s
from contracts.den.errors import DenErrorCode
from contracts.den.models import (
    AuthorizeUploadV1,
    CreateLinkV1,
    DeleteFileV1,
    GetFileV1,
    GetQuotaV1,
    GetUploadV1,
    UploadState,
)
from contracts.platform.health import HealthCheckV1, HealthStatus
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.service.complete_upload import stored_parts
from den.service.receive_upload import _Receiver, receive_upload
from den.service.reconcile import reconcile, sweep_orphans
from shared.bus import Bus, BusTimeout, BusUnavailable
from shared.settings import PlatformSettings
from tests.den.conftest import CHUNK, ORG, PART, USER, DenClient, den_env, den_of, pattern
from tests.shared.bus.conftest import eventually

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}


async def chunk_subjects(client: DenClient) -> set[str]:
    info = await client.bus.js.stream_info("OBJ_den", subjects_filter="$O.den.C.>")
    return set(info.state.subjects or {})


async def _create(client: DenClient, length: int) -> tuple[str, str]:
    auth = await client.authorize(name="crash.bin")
    response = await client.http.post(
        auth.create_url, headers={**TUS, "Upload-Length": str(length)}
    )
    assert response.status_code == 201, response.text
    return auth.upload.upload_id, response.headers["location"]


async def test_sigkill_mid_upload_is_reconciled_and_the_upload_resumes(
    den_factory: Any, platform_settings: PlatformSettings
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "den",
        env=den_env(
            platform_settings,
            DEN_CHUNK_BYTES=str(CHUNK),
            DEN_PART_BYTES=str(PART),
            DEN_WRITER_LEASE_S="1",
            DEN_RECONCILE_INTERVAL_S="3600",
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    bus = await Bus(platform_settings, name="crash-probe").connect()
    http = httpx.AsyncClient(timeout=10)
    data = pattern(4 * PART, seed=21)
    try:

        async def healthy() -> bool:
            try:
                health = await bus.request(HEALTH, HealthCheckV1(), timeout=1)
            except (BusUnavailable, BusTimeout):  # not up yet, or too busy to answer in time
                return False
            return health.status is HealthStatus.OK

        await eventually(healthy, timeout=60)
        auth = await bus.request(
            s.UPLOAD_AUTHORIZE, AuthorizeUploadV1(name="crash.bin"), org_id=ORG, actor=USER
        )
        upload_id = auth.upload.upload_id
        created = await http.post(auth.create_url, headers={**TUS, "Upload-Length": str(len(data))})
        url = created.headers["location"]
        sent = 2 * PART + 2 * CHUNK + 100
        never = asyncio.Event()

        async def body() -> AsyncIterator[bytes]:
            yield data[:sent]
            await never.wait()  # the process dies with this request in flight

        patch = asyncio.create_task(
            http.patch(
                url,
                content=body(),
                headers={**TUS, **OFFSET_TYPE, "Upload-Offset": "0"},
            )
        )

        async def two_parts_and_chunks_of_a_third() -> bool:
            head = await http.head(url, headers=TUS)
            info = await bus.js.stream_info("OBJ_den", subjects_filter="$O.den.C.>")
            subjects = info.state.subjects or {}
            return head.headers["upload-offset"] == str(2 * PART) and len(subjects) == 3

        await eventually(two_parts_and_chunks_of_a_third, timeout=30)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        patch.cancel()  # its body waits for ever; the server it talked to is gone
        with contextlib.suppress(BaseException):
            await patch
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await http.aclose()
        await bus.close()

    # A fresh replica, after the dead writer's lease ran out.
    client: DenClient = await den_factory()
    den = den_of(client)
    state = await client.ask(s.UPLOAD_GET, GetUploadV1(upload_id=upload_id))
    assert (state.state, state.offset) == (UploadState.RECEIVING, 2 * PART)
    assert len(await chunk_subjects(client)) == 3  # the dead part's chunks are still there
    report = await reconcile(den, now=den.now() + timedelta(seconds=5))
    assert (report.released_leases, report.removed_parts) == (1, 1)
    assert len(await chunk_subjects(client)) == 2
    async with client.app.db.transaction(org_id=ORG) as uow:
        parts = await repo.parts_of(uow.session, upload_id)
    assert [(p.part_no, p.written) for p in parts] == [(0, True), (1, True)]
    orphans = await sweep_orphans(den)
    assert (orphans.orphan_objects, orphans.orphan_chunks) == (0, 0)
    # The client resumes against the new replica and the file is whole.
    resumed = urlunsplit(urlsplit(url)._replace(netloc=urlsplit(client.base).netloc))
    response = await client.http.patch(
        resumed,
        content=data[2 * PART :],
        headers={**TUS, **OFFSET_TYPE, "Upload-Offset": str(2 * PART)},
    )
    assert response.status_code == 204, response.text
    file = await client.ask(s.FILE_GET, GetFileV1(file_id=response.headers["den-file-id"]))
    assert file.sha256 == hashlib.sha256(data).hexdigest()


async def test_crash_after_bytes_before_their_record(den: DenClient) -> None:
    """The writer stored a whole part (chunks and metadata) and died before recording it."""
    replica = den_of(den)
    upload_id, _ = await _create(den, 3 * PART)
    writer = _Receiver(replica, ORG, upload_id, None)
    await writer.claim(0, None)
    part = await writer._open(0)
    await part.writer.write(pattern(PART))
    await part.writer.finish()  # bytes and object metadata stored...
    # ...and here the process dies: no record, no release.
    assert len(await chunk_subjects(den)) == 1
    quiet = await reconcile(replica)  # the lease still runs: nothing is touched yet
    assert quiet.removed_parts == 0
    assert len(await chunk_subjects(den)) == 1
    report = await reconcile(replica, now=replica.now() + timedelta(seconds=60))
    assert report.removed_parts == 1
    assert await den.stored_messages() == 0
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=upload_id))
    assert (state.state, state.offset) == (UploadState.RECEIVING, 0)


async def test_an_upload_stored_whole_but_never_completed_is_completed(den: DenClient) -> None:
    """The writer recorded every byte and died, still holding its lease, before the
    completion (file row, usage, event) committed: the reconciler completes it."""
    data = pattern(2 * PART + 10, seed=41)
    upload_id, _ = await _create(den, len(data))
    writer = _Receiver(den_of(den), ORG, upload_id, None)
    await writer.claim(0, None)

    async def body() -> AsyncIterator[bytes]:
        yield data

    row = await writer._run(body())
    assert (row.state, row.byte_offset) == (UploadState.RECEIVING.value, len(data))
    created = await den.subscribe(s.FILE_CREATED)
    restarted = den_of(den)  # no running hash survives: the digest comes from the stored bytes
    assert (await reconcile(restarted)).completed_uploads == 0  # the writer may yet finish
    report = await reconcile(restarted, now=restarted.now() + timedelta(seconds=60))
    assert (report.released_leases, report.completed_uploads) == (1, 1)
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=upload_id))
    assert state.state is UploadState.COMPLETED
    assert state.file_id is not None
    file = await den.ask(s.FILE_GET, GetFileV1(file_id=state.file_id))
    assert (file.size, file.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    event = await created.next()
    assert (event.file.file_id, event.upload_id) == (file.file_id, upload_id)
    link = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id))
    assert (await den.http.get(link.url)).content == data
    quota = await den.ask(s.QUOTA_GET, GetQuotaV1())
    assert (quota.used_bytes, quota.reserved_bytes) == (len(data), 0)


async def test_storage_going_away_answers_503_and_the_upload_resumes_once_it_is_back(
    den: DenClient,
) -> None:
    data = pattern(2 * PART + 5, seed=51)
    upload_id, url = await _create(den, len(data))
    await den.bus.js.delete_stream("OBJ_den")  # the bucket is gone: every write fails
    response = await den.http.patch(
        url, content=data, headers={**TUS, **OFFSET_TYPE, "Upload-Offset": "0"}
    )
    assert response.status_code == 503, response.text
    assert response.headers["den-error-code"] == DenErrorCode.STORAGE_UNAVAILABLE
    assert response.headers["retry-after"]
    assert response.json()["error"]["retryable"] is True
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=upload_id))
    assert (state.state, state.offset) == (UploadState.RECEIVING, 0)
    replica = den_of(den)
    await replica.store.ensure_bucket(replicas=1)
    response = await den.http.patch(
        url, content=data, headers={**TUS, **OFFSET_TYPE, "Upload-Offset": "0"}
    )
    assert response.status_code == 204, response.text
    file = await den.ask(s.FILE_GET, GetFileV1(file_id=response.headers["den-file-id"]))
    assert file.sha256 == hashlib.sha256(data).hexdigest()
    async with den.app.db.transaction(org_id=ORG) as uow:
        parts = await repo.parts_of(uow.session, upload_id)
    # The part the failed request had begun is gone; the three of the file are recorded.
    assert [(p.byte_offset, p.written) for p in parts] == [
        (0, True),
        (PART, True),
        (2 * PART, True),
    ]
    orphans = await sweep_orphans(replica)
    assert (orphans.orphan_objects, orphans.orphan_chunks) == (0, 0)


async def test_a_download_the_store_cannot_serve_fails_with_its_code_not_a_short_200(
    den: DenClient,
) -> None:
    file = await den.put(pattern(PART + 5), name="gone.bin")
    link = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id))
    await den.bus.js.delete_stream("OBJ_den")
    for headers in ({}, {"Range": "bytes=10-20"}, {"Range": "bytes=0-9,100-109"}):
        response = await den.http.get(link.url, headers=headers)
        assert response.status_code == 503, response.status_code
        assert response.headers["den-error-code"] == DenErrorCode.STORAGE_UNAVAILABLE


async def test_a_cancelled_request_leaves_nothing(den: DenClient) -> None:
    replica = den_of(den)
    upload_id, _ = await _create(den, 3 * PART)
    gate = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield pattern(PART + 2 * CHUNK)
        await gate.wait()

    task = asyncio.create_task(
        receive_upload(replica, ORG, upload_id, offset=0, body=body(), checksum=None)
    )

    async def chunks_stored() -> bool:
        return len(await chunk_subjects(den)) == 2

    await eventually(chunks_stored, timeout=30)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await den.stored_messages() == 0
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=upload_id))
    assert state.offset == 0


async def test_expired_uploads_release_quota_and_bytes(den: DenClient) -> None:
    replica = den_of(den)
    upload_id, url = await _create(den, 3 * PART)
    response = await den.http.patch(
        url, content=pattern(PART + 1), headers={**TUS, **OFFSET_TYPE, "Upload-Offset": "0"}
    )
    assert response.status_code == 204
    assert (await den.ask(s.QUOTA_GET, GetQuotaV1())).reserved_bytes == 3 * PART
    report = await reconcile(replica, now=replica.now() + timedelta(days=2))
    assert report.expired_uploads == 1
    assert await den.stored_messages() == 0
    quota = await den.ask(s.QUOTA_GET, GetQuotaV1())
    assert (quota.used_bytes, quota.reserved_bytes) == (0, 0)
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=upload_id))
    assert state.state is UploadState.EXPIRED
    head = await den.http.head(url, headers=TUS)
    assert head.status_code == 410


async def test_an_interrupted_purge_is_finished(den: DenClient) -> None:
    replica = den_of(den)
    file = await den.put(pattern(PART + 5), name="doomed.bin")
    kept = await den.put(b"kept", name="kept.bin")
    # As if the purge's transaction committed and the process died before removing bytes.
    async with den.app.db.transaction(org_id=ORG) as uow:
        row = await repo.get_file(uow.session, file.file_id)
        assert row is not None
        await repo.delete_file(uow.session, file.file_id)
        await repo.update_blob(uow.session, str(row.blob_id), state="purging")
        await repo.schedule_sweep(uow.session, ORG, replica.now())
    report = await reconcile(replica)
    assert report.purged_blobs == 1
    assert await den.stored_messages() == 2  # kept.bin: one chunk, one metadata
    async with den.app.db.transaction(org_id=ORG) as uow:
        count = await uow.session.scalar(text("select count(*) from den_blobs"))
    assert count == 1
    assert (await den.ask(s.FILE_GET, GetFileV1(file_id=kept.file_id))).name == "kept.bin"


async def test_unknown_objects_in_the_bucket_are_swept(den: DenClient) -> None:
    replica = den_of(den)
    data = pattern(PART + 10)
    file = await den.put(data, name="legit.bin")
    js = den.bus.js
    store = await js.object_store("den")
    ghost = "org-acme/0190b5b0-0000-7000-8000-000000000000/0"
    await store.put(ghost, b"nobody knows me")
    await store.put("not-even-a-den-name", b"stray")
    await js.publish("$O.den.C.deadbeefchunksonly", b"half-written")
    report = await sweep_orphans(replica)
    assert (report.orphan_objects, report.orphan_chunks) == (2, 1)
    names = {info.name for info in await store.list(ignore_deletes=True)}
    blob = _blob_of(await _file_row(den, file.file_id))
    assert names == {f"{ORG}/{blob}/0", f"{ORG}/{blob}/1"}
    link = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id))
    assert (await den.http.get(link.url)).content == data


async def _file_row(den: DenClient, file_id: str) -> Any:
    async with den.app.db.transaction(org_id=ORG) as uow:
        return await repo.get_file(uow.session, file_id)


def _blob_of(row: Any) -> str:
    return str(row.blob_id)


async def test_den_writes_the_standard_object_store_layout(den: DenClient) -> None:
    data = pattern(PART + 123, seed=9)
    file = await den.put(data, name="compat.bin")
    store = await den.bus.js.object_store("den")
    blob = _blob_of(await _file_row(den, file.file_id))
    whole = b""
    for part_no in (0, 1):
        result = await store.get(f"{ORG}/{blob}/{part_no}")  # nats-py checks the digest
        info: api.ObjectInfo = result.info
        assert info.options is not None
        assert info.options.max_chunk_size == CHUNK
        whole += result.data or b""
    assert whole == data


async def test_the_trash_empties_itself_after_the_retention(den: DenClient) -> None:
    replica = den_of(den)
    old = await den.put(pattern(100), name="old.txt")
    fresh = await den.put(b"fresh", name="fresh.txt")
    await den.ask(s.FILE_DELETE, DeleteFileV1(file_id=old.file_id))
    purged = await den.subscribe(s.FILE_PURGED)
    retention = timedelta(seconds=den.app.settings.trash_retention_s)  # type: ignore[attr-defined]
    assert (await reconcile(replica, now=replica.now() + retention / 2)).emptied_trash == 0
    await den.ask(s.FILE_DELETE, DeleteFileV1(file_id=fresh.file_id))
    report = await reconcile(replica, now=replica.now() + retention + timedelta(seconds=1))
    assert report.emptied_trash == 2
    assert (await purged.next()).file_id == old.file_id
    assert await den.stored_messages() == 0


async def test_bytes_missing_under_a_record_fail_the_read_never_serve_other_bytes(
    den: DenClient,
) -> None:
    replica = den_of(den)
    data = pattern(2 * PART, seed=31)
    file = await den.put(data, name="fragile.bin")
    async with den.app.db.transaction(org_id=ORG) as uow:
        row = await repo.get_file(uow.session, file.file_id)
        assert row is not None
        parts = stored_parts(await repo.parts_of(uow.session, str(row.blob_id)))
    # One chunk deleted from the middle of the first part: caught by its sequence.
    await den.bus.js.delete_msg("OBJ_den", parts[0].chunk_seqs[1])
    with pytest.raises(DenError) as exc:
        async for _ in replica.store.read(parts, 0, len(data) - 1):
            pass
    assert exc.value.code == DenErrorCode.INTEGRITY
    # The second part's chunks purged altogether: after waiting out replica lag, refused.
    await replica.store.purge(parts[1].nuid)
    with pytest.raises(DenError) as exc:
        async for _ in replica.store.read(parts, PART, len(data) - 1):
            pass
    assert exc.value.code == DenErrorCode.INTEGRITY
