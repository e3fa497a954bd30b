"""Downloads over real HTTP: who may read, what headers say, ranges, conditionals."""

from __future__ import annotations

import base64
import hashlib
import random
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from contracts.den import subjects as s
from contracts.den.errors import DenErrorCode
from contracts.den.models import (
    CreateLinkV1,
    FileV1,
    RevokeFileLinksV1,
    RevokeLinkV1,
    UpdateFileV1,
)
from shared.bus import RemoteError
from tests.den.conftest import CHUNK, ORG, OTHER_ORG, PART, Clock, DenClient, pattern

DATA = pattern(3 * PART + 1234, seed=3)


def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def _link(den: DenClient, file: FileV1, **fields: object) -> str:
    link = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id, **fields))  # type: ignore[arg-type]
    return link.url


async def test_public_and_private_access(den: DenClient) -> None:
    file = await den.put(b"hello", name="hello.txt")
    bare = f"{den.base}/v1/orgs/{ORG}/files/{file.file_id}"
    refused = await den.http.get(bare)
    assert refused.status_code == 403
    assert _error(refused) == DenErrorCode.INVALID_SIGNATURE
    assert refused.headers["x-content-type-options"] == "nosniff"
    public = await den.ask(s.FILE_UPDATE, UpdateFileV1(file_id=file.file_id, public=True))
    assert public.public_url == bare
    response = await den.http.get(bare)
    assert response.status_code == 200
    assert response.content == b"hello"
    assert response.headers["cache-control"].startswith("public")
    await den.ask(s.FILE_UPDATE, UpdateFileV1(file_id=file.file_id, public=False))
    assert (await den.http.get(bare)).status_code == 403
    # The org in the path scopes everything: the same id under another org does not exist.
    other = await den.http.get(f"{den.base}/v1/orgs/{OTHER_ORG}/files/{file.file_id}")
    assert other.status_code == 404
    assert _error(other) == DenErrorCode.FILE_NOT_FOUND
    for path in (
        "/v1/orgs/a.b/files/x",
        f"/v1/orgs/{ORG}/files/not-a-uuid",
        "/v1/orgs/%2e%2e/files/x",
    ):
        assert (await den.http.get(den.base + path)).status_code == 404


async def test_headers_of_a_download(den: DenClient) -> None:
    png = b"\x89PNG\r\n\x1a\n" + pattern(100)
    file = await den.put(png, name="bild ä.png")
    response = await den.http.get(await _link(den, file))
    h = response.headers
    assert response.content == png
    assert h["content-type"] == "image/png"
    assert h["content-disposition"] == (
        "inline; filename=\"bild a.png\"; filename*=UTF-8''bild%20%C3%A4.png"
    )
    assert h["x-content-type-options"] == "nosniff"
    assert "sandbox" in h["content-security-policy"]
    assert h["etag"] == f'"{file.sha256}"'
    assert (
        h["repr-digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(png).digest()).decode()}:"
    )
    assert h["accept-ranges"] == "bytes"
    assert h["content-length"] == str(len(png))
    assert h["cache-control"] == "private, no-store"
    assert "last-modified" in h
    forced = await den.http.get(await _link(den, file, attachment=True))
    assert forced.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("body", "name"),
    [
        (b"<!DOCTYPE html><html><script>alert(document.domain)</script></html>", "page.html"),
        (b"<html><body onload=alert(1)>", "photo.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "i.svg"),
        (b"<?xml version='1.0'?><x:script xmlns:x='http://www.w3.org/1999/xhtml'/>", "a.xml"),
        (b"alert(document.cookie)", "x.js"),
    ],
)
async def test_active_content_is_never_rendered(den: DenClient, body: bytes, name: str) -> None:
    file = await den.put(body, name=name)
    response = await den.http.get(await _link(den, file))
    assert response.content == body
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_ranges_across_chunk_and_part_boundaries(den: DenClient) -> None:
    file = await den.put(DATA, name="data.bin")
    url = await _link(den, file)
    size = len(DATA)
    rng = random.Random(5)  # noqa: S311 - positions, not secrets
    cases = [
        (0, 0),
        (size - 1, size - 1),
        (CHUNK - 1, CHUNK),
        (PART - 1, PART),
        (PART - 10, 2 * PART + 10),
        (0, size - 1),
        (CHUNK, 2 * CHUNK - 1),
    ] + [tuple(sorted((rng.randrange(size), rng.randrange(size)))) for _ in range(12)]
    for start, end in cases:
        response = await den.http.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert response.status_code == 206, (start, end)
        assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert response.content == DATA[start : end + 1], (start, end)
    suffix = await den.http.get(url, headers={"Range": "bytes=-100"})
    assert suffix.status_code == 206
    assert suffix.content == DATA[-100:]
    tail = await den.http.get(url, headers={"Range": f"bytes={size - 5}-"})
    assert tail.content == DATA[-5:]
    clamped = await den.http.get(url, headers={"Range": f"bytes={size - 5}-{size + 100}"})
    assert clamped.headers["content-range"] == f"bytes {size - 5}-{size - 1}/{size}"


async def test_multiple_ranges_and_odd_headers(den: DenClient) -> None:
    file = await den.put(DATA, name="data.bin")
    url = await _link(den, file)
    size = len(DATA)
    response = await den.http.get(url, headers={"Range": f"bytes=0-9,{PART}-{PART + 9},-3"})
    assert response.status_code == 206
    boundary = re.fullmatch(
        r"multipart/byteranges; boundary=(\w+)", response.headers["content-type"]
    )
    assert boundary is not None
    assert int(response.headers["content-length"]) == len(response.content)
    bodies = []
    for section in response.content.split(f"--{boundary.group(1)}".encode())[1:-1]:
        head, _, body = section.partition(b"\r\n\r\n")
        assert b"Content-Range: bytes" in head
        bodies.append(body[:-2])  # the CRLF before the next boundary
    assert bodies == [DATA[:10], DATA[PART : PART + 10], DATA[-3:]]
    merged = await den.http.get(url, headers={"Range": "bytes=0-9,5-19"})
    assert merged.headers["content-range"] == f"bytes 0-19/{size}"
    unsatisfiable = await den.http.get(url, headers={"Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
    assert _error(unsatisfiable) == DenErrorCode.RANGE_NOT_SATISFIABLE
    for ignored in ("bytes=9-1", "lines=1-2", "bytes=x-y"):
        whole = await den.http.get(url, headers={"Range": ignored})
        assert whole.status_code == 200
        assert whole.content == DATA
    described = await den.http.head(url, headers={"Range": "bytes=0-1"})
    assert described.status_code == 200
    assert described.content == b""
    assert described.headers["content-length"] == str(size)


async def test_conditional_requests(den: DenClient) -> None:
    file = await den.put(DATA, name="data.bin")
    url = await _link(den, file)
    etag = f'"{file.sha256}"'
    first = await den.http.get(url)
    not_modified = await den.http.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    since = await den.http.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    failed = await den.http.get(url, headers={"If-Match": '"other"'})
    assert failed.status_code == 412
    assert _error(failed) == DenErrorCode.PRECONDITION_FAILED
    same = await den.http.get(url, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert same.status_code == 206
    assert same.content == DATA[:4]
    changed = await den.http.get(url, headers={"Range": "bytes=0-3", "If-Range": '"old"'})
    assert changed.status_code == 200
    assert changed.content == DATA
    dated = await den.http.get(
        url, headers={"Range": "bytes=0-3", "If-Range": first.headers["last-modified"]}
    )
    assert dated.status_code == 206


async def test_an_empty_file(den: DenClient) -> None:
    file = await den.put(b"", name="empty.txt")
    assert file.size == 0
    url = await _link(den, file)
    response = await den.http.get(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert (await den.http.get(url, headers={"Range": "bytes=0-"})).status_code == 416


async def test_tampered_and_misused_links_are_refused(den: DenClient) -> None:
    file = await den.put(b"private", name="p.txt")
    other = await den.put(b"other", name="o.txt")
    url = await _link(den, file)
    signature = dict(parse_qsl(urlsplit(url).query))["signature"]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    expires = dict(parse_qsl(urlsplit(url).query))["expires"]
    other_url = await _link(den, other)
    cases = [
        _with_query(url, signature=flipped),
        _with_query(url, signature=None),
        _with_query(url, expires=str(int(expires) + 60)),
        _with_query(url, expires="never"),
        _with_query(url, link="0190b5b0-0000-7000-8000-000000000000"),
        _with_query(url, link="not-a-uuid"),
        # A good signature for another file, moved onto this one.
        _with_query(url, signature=dict(parse_qsl(urlsplit(other_url).query))["signature"]),
        url.replace(f"/orgs/{ORG}/", f"/orgs/{OTHER_ORG}/"),
    ]
    for bad in cases:
        response = await den.http.get(bad)
        assert response.status_code in (403, 404), bad
        assert _error(response) in (DenErrorCode.INVALID_SIGNATURE, DenErrorCode.FILE_NOT_FOUND)
        assert b"private" not in response.content
    # Bound to the method: the download signature opens nothing else.
    assert (await den.http.put(url, content=b"x")).status_code == 405
    upload_path = url.replace(f"/files/{file.file_id}", f"/uploads/{file.file_id}")
    hijack = await den.http.head(upload_path, headers={"Tus-Resumable": "1.0.0"})
    assert hijack.status_code == 403


async def test_lifetime_expiry_and_revocation(den_factory: Any) -> None:
    """Expiry is judged by den's clock, which the test holds still and moves to exact
    instants: the outcome depends on no scheduling, however loaded the machine."""
    clock = Clock()
    den: DenClient = await den_factory(clock=clock)
    file = await den.put(b"short-lived", name="s.txt")
    with pytest.raises(RemoteError) as exc:
        await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id, lifetime_s=10**9))
    assert exc.value.code == DenErrorCode.INVALID_LIFETIME
    one = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id))
    two = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id))
    brief = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id, lifetime_s=60))
    expires = int(brief.expires_at.timestamp())
    assert expires == int(clock().timestamp()) + 60
    revoked = await den.ask(s.LINK_REVOKE, RevokeLinkV1(link_id=one.link_id))
    assert revoked.revoked_at is not None
    response = await den.http.get(one.url)
    assert response.status_code == 403
    assert _error(response) == DenErrorCode.LINK_REVOKED
    assert (await den.http.get(two.url)).content == b"short-lived"
    # A link works through its expiry second and not a second longer, for GET and HEAD.
    clock.set(expires)
    assert (await den.http.get(brief.url)).content == b"short-lived"
    assert (await den.http.head(brief.url)).status_code == 200
    clock.set(expires + 1)
    response = await den.http.get(brief.url)
    assert response.status_code == 403
    assert _error(response) == DenErrorCode.URL_EXPIRED
    assert b"short-lived" not in response.content
    head = await den.http.head(brief.url)
    assert (head.status_code, head.headers["den-error-code"]) == (403, DenErrorCode.URL_EXPIRED)
    # Revoking a file's links counts live ones: two (one was revoked, brief has expired).
    result = await den.ask(s.LINK_REVOKE_ALL, RevokeFileLinksV1(file_id=file.file_id))
    assert result.revoked == 1
    assert _error(await den.http.get(two.url)) == DenErrorCode.LINK_REVOKED
    with pytest.raises(RemoteError) as exc:
        await den.ask(s.LINK_REVOKE, RevokeLinkV1(link_id=one.link_id), org=OTHER_ORG)
    assert exc.value.code == DenErrorCode.LINK_NOT_FOUND
    # Expiry is per link: past two's, a link made now works and two is expired as well.
    clock.advance(2 * 3600)
    fresh = await den.ask(s.LINK_CREATE, CreateLinkV1(file_id=file.file_id))
    assert (await den.http.get(fresh.url)).content == b"short-lived"
    assert _error(await den.http.get(two.url)) == DenErrorCode.URL_EXPIRED


async def test_reads_survive_batches_the_server_ends_early(den_factory: Any) -> None:
    """A batched read may come back short (the server caps its bytes): the rest is asked for."""
    den = await den_factory(read_batch=8, read_batch_max_bytes=2 * CHUNK + CHUNK // 2)
    file = await den.put(DATA, name="data.bin")
    url = await _link(den, file)
    assert (await den.http.get(url)).content == DATA
    start, end = CHUNK + 5, 3 * PART
    ranged = await den.http.get(url, headers={"Range": f"bytes={start}-{end}"})
    assert ranged.content == DATA[start : end + 1]
