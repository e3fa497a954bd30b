"""Uploads over real HTTP: tus 1.0 (creation, resume, checksum, termination) and one-shot PUT."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from contracts.den import subjects as s
from contracts.den.errors import DenErrorCode
from contracts.den.models import (
    CancelUploadV1,
    ConflictPolicy,
    CreateFolderV1,
    CreateLinkV1,
    DeleteFolderV1,
    GetFileV1,
    GetUploadV1,
    UploadState,
)
from contracts.envelope import ErrorV1
from den.service.reconcile import reconcile
from shared.bus import RemoteError
from tests.den.conftest import (
    ORG,
    OTHER_ORG,
    PART,
    Clock,
    DenClient,
    den_of,
    pattern,
    sha256_b64,
)
from tests.shared.bus.conftest import eventually

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _error(response: httpx.Response) -> str:
    code = response.headers["den-error-code"]
    if response.request.method != "HEAD":
        assert response.json()["error"]["code"] == code
    return code


async def _create(den: DenClient, length: int, name: str = "up.bin", **fields: object) -> str:
    auth = await den.authorize(**fields)  # type: ignore[arg-type]
    response = await den.http.post(
        auth.create_url,
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": _meta(filename=name)},
    )
    assert response.status_code == 201, response.text
    assert response.headers["upload-expires"]
    return response.headers["location"]


async def _patch(
    den: DenClient, url: str, offset: int, body: bytes, **headers: str
) -> httpx.Response:
    return await den.http.patch(
        url, content=body, headers={**TUS, **OFFSET_TYPE, "Upload-Offset": str(offset), **headers}
    )


async def test_capabilities(den: DenClient) -> None:
    response = await den.http.options(f"{den.base}/v1/orgs/any/uploads")
    assert response.status_code == 204
    h = response.headers
    assert h["tus-version"] == "1.0.0"
    assert h["tus-resumable"] == "1.0.0"
    assert set(h["tus-extension"].split(",")) >= {"creation", "checksum", "termination"}
    assert h["tus-checksum-algorithm"] == "sha256"
    assert int(h["tus-max-size"]) == 1024 * 1024


async def test_a_resumable_upload_in_pieces(den: DenClient) -> None:
    data = pattern(2 * PART + 777, seed=11)
    url = await _create(den, len(data), name="résumé.pdf")
    head = await den.http.head(url, headers=TUS)
    assert head.status_code == 200
    assert (head.headers["upload-offset"], head.headers["upload-length"]) == ("0", str(len(data)))
    assert head.headers["cache-control"] == "no-store"
    cuts = [0, 1000, PART + 5, len(data)]
    for start, end in itertools.pairwise(cuts):
        response = await _patch(den, url, start, data[start:end])
        assert response.status_code == 204, response.text
        assert response.headers["upload-offset"] == str(end)
    file_id = response.headers["den-file-id"]
    file = await den.ask(s.FILE_GET, GetFileV1(file_id=file_id))
    assert (file.name, file.size) == ("résumé.pdf", len(data))
    assert file.sha256 == hashlib.sha256(data).hexdigest()
    done = await den.http.head(url, headers=TUS)
    assert done.headers["upload-offset"] == str(len(data))
    assert done.headers["den-file-id"] == file_id


async def test_checksums_offsets_and_headers_are_enforced(den: DenClient) -> None:
    data = pattern(PART + 100, seed=12)
    url = await _create(den, len(data))
    ok = await _patch(
        den, url, 0, data[:500], **{"Upload-Checksum": "sha256 " + sha256_b64(data[:500])}
    )
    assert ok.status_code == 204
    stored = await den.stored_messages()
    cases = [
        (  # the checksum of other bytes: 460, and the body is dropped
            await _patch(
                den, url, 500, data[500:], **{"Upload-Checksum": "sha256 " + sha256_b64(b"x")}
            ),
            460,
            DenErrorCode.CHECKSUM_MISMATCH,
        ),
        (
            await _patch(den, url, 500, data[500:], **{"Upload-Checksum": "md5 AAAA"}),
            400,
            DenErrorCode.UNSUPPORTED_CHECKSUM,
        ),
        (await _patch(den, url, 0, data), 409, DenErrorCode.OFFSET_MISMATCH),
        (await _patch(den, url, 501, data[501:]), 409, DenErrorCode.OFFSET_MISMATCH),
        (
            await den.http.patch(
                url,
                content=data[500:],
                headers={**TUS, "Content-Type": "text/plain", "Upload-Offset": "500"},
            ),
            415,
            DenErrorCode.UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            await den.http.patch(
                url, content=data[500:], headers={**OFFSET_TYPE, "Upload-Offset": "500"}
            ),
            412,
            DenErrorCode.UNSUPPORTED_VERSION,
        ),
        (
            await den.http.patch(url, content=b"x", headers={**TUS, **OFFSET_TYPE}),
            400,
            DenErrorCode.BAD_REQUEST,
        ),
        (await _patch(den, url, 500, data[500:] + b"extra"), 413, DenErrorCode.TOO_LARGE),
    ]
    for response, status, code in cases:
        assert (response.status_code, _error(response)) == (status, code), response.text
        assert response.headers["tus-resumable"] == "1.0.0"
    conflict = cases[2][0]
    assert conflict.headers["upload-offset"] == "500"
    error = ErrorV1.model_validate(conflict.json()["error"], strict=True)
    assert (error.code, error.retryable, error.details) == (
        DenErrorCode.OFFSET_MISMATCH,
        False,
        {"offset": 500},
    )
    assert await den.stored_messages() == stored
    assert (await den.http.head(url, headers=TUS)).headers["upload-offset"] == "500"
    good = await _patch(
        den, url, 500, data[500:], **{"Upload-Checksum": "sha256 " + sha256_b64(data[500:])}
    )
    assert good.status_code == 204
    assert "den-file-id" in good.headers


async def test_a_streamed_patch_running_past_the_length_keeps_nothing(den: DenClient) -> None:
    data = pattern(2 * PART, seed=17)
    url = await _create(den, len(data))
    assert (await _patch(den, url, 0, data[:100])).status_code == 204
    stored = await den.stored_messages()

    async def overlong() -> AsyncIterator[bytes]:  # no Content-Length: caught while streaming
        for i in range(100, len(data), 3000):
            yield data[i : i + 3000]
        yield b"one byte too many"

    response = await den.http.patch(
        url, content=overlong(), headers={**TUS, **OFFSET_TYPE, "Upload-Offset": "100"}
    )
    assert (response.status_code, _error(response)) == (413, DenErrorCode.TOO_LARGE)
    assert await den.stored_messages() == stored
    assert (await den.http.head(url, headers=TUS)).headers["upload-offset"] == "100"
    done = await _patch(den, url, 100, data[100:])
    assert done.status_code == 204, done.text
    file = await den.ask(s.FILE_GET, GetFileV1(file_id=done.headers["den-file-id"]))
    assert file.sha256 == hashlib.sha256(data).hexdigest()


async def test_an_interrupted_request_keeps_what_arrived(den: DenClient) -> None:
    data = pattern(3 * PART, seed=13)
    url = await _create(den, len(data))
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    sent = 2 * PART + 100
    writer.write(
        (
            f"PATCH {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Upload-Offset: 0\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        + data[:sent]
    )
    await writer.drain()

    async def offset_is_kept() -> bool:
        head = await den.http.head(url, headers=TUS)
        return int(head.headers["upload-offset"]) == sent

    # The server keeps reading until the connection goes; then it commits what it has.
    await asyncio.sleep(0.2)
    writer.close()
    await eventually(offset_is_kept, timeout=30)
    del reader
    # The interrupted request may still hold the upload for a moment (423 until it lets go).
    deadline = asyncio.get_running_loop().time() + 30
    while (response := await _patch(den, url, sent, data[sent:])).status_code == 423:
        assert asyncio.get_running_loop().time() < deadline, "the upload was never let go"
        await asyncio.sleep(0.1)
    assert response.status_code == 204, response.text
    file = await den.ask(s.FILE_GET, GetFileV1(file_id=response.headers["den-file-id"]))
    assert file.sha256 == hashlib.sha256(data).hexdigest()


async def test_one_writer_at_a_time(den: DenClient) -> None:
    data = pattern(2 * PART, seed=14)
    url = await _create(den, len(data))
    release = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield data[:PART]
        await release.wait()
        yield data[PART:]

    first = asyncio.create_task(
        den.http.patch(
            url,
            content=slow(),
            headers={**TUS, **OFFSET_TYPE, "Upload-Offset": "0", "Content-Length": str(len(data))},
        )
    )

    async def first_part_stored() -> bool:
        head = await den.http.head(url, headers=TUS)
        return head.headers["upload-offset"] == str(PART)

    await eventually(first_part_stored, timeout=30)
    for offset in (0, PART):  # whatever the offset, the holder comes first
        response = await _patch(den, url, offset, data[offset:])
        assert response.status_code == 423
        assert _error(response) == DenErrorCode.UPLOAD_BUSY
    release.set()
    assert (await first).status_code == 204


async def test_creation_rules(den: DenClient) -> None:
    auth = await den.authorize()
    post = den.http.post
    too_big = await post(auth.create_url, headers={**TUS, "Upload-Length": str(2 * 1024 * 1024)})
    assert too_big.status_code == 413
    assert _error(too_big) == DenErrorCode.TOO_LARGE
    no_length = await post(auth.create_url, headers={**TUS, "Upload-Defer-Length": "1"})
    assert no_length.status_code == 400
    no_name = await post(auth.create_url, headers={**TUS, "Upload-Length": "3"})
    assert no_name.status_code == 400
    assert _error(no_name) == DenErrorCode.INVALID_NAME
    for evil in ("../../etc/passwd", "a/b", "x\x00.png", ".."):
        traversal = await post(
            auth.create_url,
            headers={**TUS, "Upload-Length": "3", "Upload-Metadata": _meta(filename=evil)},
        )
        assert traversal.status_code == 400
        assert _error(traversal) == DenErrorCode.INVALID_NAME
    bad_meta = await post(
        auth.create_url, headers={**TUS, "Upload-Length": "3", "Upload-Metadata": "filename %%%"}
    )
    assert bad_meta.status_code == 400
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=auth.upload.upload_id))
    assert state.state is UploadState.AUTHORIZED
    assert state.name is None
    # Creation with the body in the same request; a retried creation is answered the same.
    headers = {**TUS, **OFFSET_TYPE, "Upload-Length": "5", "Upload-Metadata": _meta(filename="a")}
    created = await post(auth.create_url, headers=headers, content=b"hello")
    assert created.status_code == 201
    assert created.headers["upload-offset"] == "5"
    again = await post(auth.create_url, headers={**TUS, "Upload-Length": "5"})
    assert again.status_code == 410
    assert _error(again) == DenErrorCode.UPLOAD_CLOSED
    tampered = created.headers["location"].replace("signature=", "signature=x")
    assert (await den.http.head(tampered, headers=TUS)).status_code == 403


async def test_termination(den: DenClient) -> None:
    url = await _create(den, 3 * PART)
    assert (await _patch(den, url, 0, pattern(PART + 10))).status_code == 204
    assert await den.stored_messages() > 0
    deleted = await den.http.delete(url, headers=TUS)
    assert deleted.status_code == 204
    assert await den.stored_messages() == 0
    gone = await den.http.head(url, headers=TUS)
    assert gone.status_code == 410
    assert _error(gone) == DenErrorCode.UPLOAD_CLOSED
    assert (await _patch(den, url, PART + 10, b"x")).status_code == 410
    assert (await den.http.delete(url, headers=TUS)).status_code == 410


async def test_single_request_uploads(den: DenClient) -> None:
    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for i in range(0, len(data), 3000):
            yield data[i : i + 3000]

    data = pattern(PART * 2 + 3, seed=15)
    auth = await den.authorize(name="streamed.bin")
    response = await den.http.put(auth.put_url, content=chunks(data))  # no Content-Length
    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()
    again = await den.http.put(auth.put_url, content=b"more")
    assert again.status_code == 410
    assert _error(again) == DenErrorCode.UPLOAD_CLOSED
    stored = await den.stored_messages()
    # Oversize, announced or streamed: refused, nothing kept.
    auth = await den.authorize(name="big.bin", max_bytes=PART)
    response = await den.http.put(auth.put_url, content=pattern(PART + 1))
    assert response.status_code == 413
    assert _error(response) == DenErrorCode.TOO_LARGE
    auth = await den.authorize(name="big.bin", max_bytes=PART)
    response = await den.http.put(auth.put_url, content=chunks(pattern(PART + 1)))
    assert response.status_code == 413
    assert _error(response) == DenErrorCode.TOO_LARGE
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=auth.upload.upload_id))
    assert state.state is UploadState.FAILED
    auth = await den.authorize(name="sum.bin")
    response = await den.http.put(
        auth.put_url, content=b"abc", headers={"Upload-Checksum": "sha256 " + sha256_b64(b"abd")}
    )
    assert response.status_code == 460
    auth = await den.authorize()
    response = await den.http.put(auth.put_url + "&filename=..%2F..%2Fx", content=b"abc")
    assert response.status_code == 400
    assert _error(response) == DenErrorCode.INVALID_NAME
    named = await den.http.put(auth.put_url + "&filename=ok.txt", content=b"abc")
    assert named.status_code == 201
    assert named.json()["name"] == "ok.txt"
    assert await den.stored_messages() == stored + 2  # one chunk and its metadata


async def test_conflicts_and_targets(den: DenClient) -> None:
    await den.put(b"1", name="same.txt")
    second = await den.put(b"2", name="same.txt")
    assert second.name == "same (1).txt"
    with pytest.raises(RemoteError) as exc:
        await den.authorize(name="same.txt", on_conflict=ConflictPolicy.FAIL)
    assert exc.value.code == DenErrorCode.NAME_TAKEN
    folder = await den.ask(s.FOLDER_CREATE, CreateFolderV1(name="mine"))
    with pytest.raises(RemoteError) as exc:
        await den.authorize(org=OTHER_ORG, folder_id=folder.folder_id)
    assert exc.value.code == DenErrorCode.FOLDER_NOT_FOUND
    with pytest.raises(RemoteError) as exc:
        await den.authorize(lifetime_s=10**9)
    assert exc.value.code == DenErrorCode.INVALID_LIFETIME
    # A folder with an upload in progress cannot be deleted from under it.
    auth = await den.authorize(name="in.txt", folder_id=folder.folder_id)
    with pytest.raises(RemoteError) as exc:
        await den.ask(s.FOLDER_DELETE, DeleteFolderV1(folder_id=folder.folder_id))
    assert exc.value.code == DenErrorCode.FOLDER_NOT_EMPTY
    cancelled = await den.ask(s.UPLOAD_CANCEL, CancelUploadV1(upload_id=auth.upload.upload_id))
    assert cancelled.state is UploadState.CANCELLED
    response = await den.http.put(auth.put_url, content=b"late")
    assert response.status_code == 410
    with pytest.raises(RemoteError) as exc:
        await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=auth.upload.upload_id), org=OTHER_ORG)
    assert exc.value.code == DenErrorCode.UPLOAD_NOT_FOUND


async def test_an_empty_file_over_tus_is_done_at_creation(den: DenClient) -> None:
    auth = await den.authorize(name="empty.txt")
    created = await den.http.post(auth.create_url, headers={**TUS, "Upload-Length": "0"})
    assert created.status_code == 201
    file = await den.ask(s.FILE_GET, GetFileV1(file_id=created.headers["den-file-id"]))
    assert file.size == 0
    assert file.sha256 == hashlib.sha256(b"").hexdigest()


async def test_a_name_taken_while_uploading_fails_the_upload_when_asked_to(den: DenClient) -> None:
    auth = await den.authorize(name="race.txt", on_conflict=ConflictPolicy.FAIL)
    await den.put(b"first", name="race.txt")
    stored = await den.stored_messages()
    response = await den.http.put(auth.put_url, content=pattern(PART + 1))
    assert response.status_code == 409
    assert _error(response) == DenErrorCode.NAME_TAKEN
    assert await den.stored_messages() == stored
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=auth.upload.upload_id))
    assert state.state is UploadState.FAILED
    assert state.failure == DenErrorCode.NAME_TAKEN


async def test_a_paused_client_keeps_its_upload(den_factory: Any) -> None:
    """The lease outlives a client that pauses longer than it: the process renews it.

    The lease is long enough (renewed every half second) that a loaded machine stalling den's
    loop or database for a moment does not let it lapse; the pauses add up to three leases."""
    lease = 1.5
    den = await den_factory(writer_lease_s=lease)
    data = pattern(2 * PART, seed=16)
    url = await _create(den, len(data))

    replica = den_of(den)
    swept = []

    async def pausing() -> AsyncIterator[bytes]:
        yield data[: PART + 10]
        for _ in range(3):  # several leases long, with the reconciler looking for dead writers
            await asyncio.sleep(lease)
            swept.append(await reconcile(replica))
        yield data[PART + 10 :]

    response = await den.http.patch(
        url,
        content=pausing(),
        headers={**TUS, **OFFSET_TYPE, "Upload-Offset": "0", "Content-Length": str(len(data))},
    )
    assert response.status_code == 204, response.text
    file = await den.ask(s.FILE_GET, GetFileV1(file_id=response.headers["den-file-id"]))
    assert file.sha256 == hashlib.sha256(data).hexdigest()
    assert sum(r.released_leases for r in swept) == 0


async def test_browsers_may_upload_from_another_origin(den: DenClient) -> None:
    preflight = await den.http.options(
        f"{den.base}/v1/orgs/{OTHER_ORG}/uploads/x",
        headers={
            "Origin": "https://inbox.example",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "tus-resumable, upload-offset, upload-checksum",
        },
    )
    assert preflight.status_code == 200
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert "upload-checksum" in preflight.headers["access-control-allow-headers"].lower()
    auth = await den.authorize()
    created = await den.http.post(
        auth.create_url,
        headers={
            **TUS,
            "Upload-Length": "1",
            "Upload-Metadata": _meta(filename="x"),
            "Origin": "https://inbox.example",
        },
    )
    assert created.headers["access-control-allow-origin"] == "*"
    assert "location" in created.headers["access-control-expose-headers"].lower()


async def test_expired_tampered_and_foreign_upload_urls_store_nothing(den_factory: Any) -> None:
    clock = Clock()
    den: DenClient = await den_factory(clock=clock)
    auth = await den.authorize(name="u.bin", lifetime_s=120)
    expires = int(auth.expires_at.timestamp())
    stored = await den.stored_messages()
    headers = {**TUS, **OFFSET_TYPE, "Upload-Length": "10"}
    for url in (auth.create_url, auth.put_url):
        signature = dict(parse_qsl(urlsplit(url).query))["signature"]
        flipped = url.replace(signature, ("A" if signature[0] != "A" else "B") + signature[1:])
        foreign = url.replace(f"/orgs/{ORG}/", f"/orgs/{OTHER_ORG}/")
        stretched = url.replace(f"expires={expires}", f"expires={expires + 3600}")
        for bad in (flipped, foreign, stretched):
            method = "POST" if url == auth.create_url else "PUT"
            response = await den.http.request(method, bad, headers=headers, content=b"0123456789")
            assert (response.status_code, _error(response)) == (
                403,
                DenErrorCode.INVALID_SIGNATURE,
            ), bad
    assert await den.stored_messages() == stored
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=auth.upload.upload_id))
    assert (state.state, state.offset) == (UploadState.AUTHORIZED, 0)
    # Started in time, resumed too late: the upload URLs expire with the authorisation.
    created = await den.http.post(auth.create_url, headers=headers, content=b"01234")
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    stored = await den.stored_messages()
    clock.set(expires)
    assert (await den.http.head(location, headers=TUS)).headers["upload-offset"] == "5"
    clock.set(expires + 1)
    late = [
        await _patch(den, location, 5, b"56789"),
        await den.http.head(location, headers=TUS),
        await den.http.put(auth.put_url, content=b"0123456789"),
        await den.http.delete(location, headers=TUS),
    ]
    for response in late:
        assert (response.status_code, _error(response)) == (403, DenErrorCode.URL_EXPIRED)
    assert await den.stored_messages() == stored
    state = await den.ask(s.UPLOAD_GET, GetUploadV1(upload_id=auth.upload.upload_id))
    assert (state.state, state.offset) == (UploadState.RECEIVING, 5)


async def test_claimed_content_types_are_ignored(den: DenClient) -> None:
    page = b"<!doctype html><script>alert(document.domain)</script>"
    auth = await den.authorize(name="photo.png")
    put = await den.http.put(auth.put_url, content=page, headers={"Content-Type": "image/png"})
    assert put.status_code == 201, put.text
    auth = await den.authorize()
    created = await den.http.post(
        auth.create_url,
        headers={
            **TUS,
            **OFFSET_TYPE,
            "Upload-Length": str(len(page)),
            "Upload-Metadata": _meta(filename="cat.jpg", filetype="image/jpeg"),
        },
        content=page,
    )
    assert created.status_code == 201, created.text
    for file_id in (put.json()["file_id"], created.headers["den-file-id"]):
        file = await den.ask(s.FILE_GET, GetFileV1(file_id=file_id))
        assert file.content_type == "text/html"
        link = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file_id))
        served = await den.http.get(link.url)
        assert served.content == page
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["content-disposition"].startswith("attachment;")
        assert served.headers["x-content-type-options"] == "nosniff"
