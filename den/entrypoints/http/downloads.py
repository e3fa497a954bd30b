"""GET/HEAD of a file: whole, one range (206) or several (multipart/byteranges), streamed."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from contracts.den.errors import DenErrorCode
from den.domain.conditional import Outcome, evaluate, http_date, range_applies
from den.domain.disposition import content_disposition
from den.domain.errors import DenError
from den.domain.ranges import ByteRange, parse_range
from den.domain.sniff import presentation
from den.service.context import Den
from den.service.open_download import Download, open_download


def routes(den: Den) -> APIRouter:
    router = APIRouter()

    @router.api_route("/v1/orgs/{org_id}/files/{file_id}", methods=["GET", "HEAD"])
    async def download(request: Request, org_id: str, file_id: str) -> Response:
        query = request.query_params
        dl = await open_download(
            den,
            org_id,
            file_id,
            method=request.method,
            link_id=query.get("link"),
            expires=query.get("expires"),
            signature=query.get("signature"),
        )
        signed = "signature" in query
        want_attachment = dl.attachment or query.get("download") in ("1", "true")
        shown = presentation(dl.content_type, want_attachment=want_attachment)
        headers = {
            "ETag": dl.etag,
            # RFC 9530: the whole file's digest, so a client can check what it assembled.
            "Repr-Digest": f"sha-256=:{base64.b64encode(dl.sha256).decode()}:",
            "Last-Modified": http_date(dl.created_at),
            "Accept-Ranges": "bytes",
            "Content-Disposition": content_disposition(dl.name, inline=shown.inline),
            # A revoked link or a file made private must stop working: nothing caches long.
            "Cache-Control": "public, max-age=60"
            if dl.public and not signed
            else "private, no-store",
        }
        h = request.headers
        outcome = evaluate(
            etag=dl.etag,
            last_modified=dl.created_at,
            if_match=h.get("if-match"),
            if_none_match=h.get("if-none-match"),
            if_modified_since=h.get("if-modified-since"),
            if_unmodified_since=h.get("if-unmodified-since"),
        )
        if outcome is Outcome.PRECONDITION_FAILED:
            raise DenError(DenErrorCode.PRECONDITION_FAILED, "the file does not match If-Match")
        if outcome is Outcome.NOT_MODIFIED:
            return Response(status_code=304, headers=headers)
        ranges = None
        # Range is defined for GET only (RFC 9110 14.2): HEAD describes the whole file.
        if request.method == "GET" and range_applies(
            h.get("if-range"), etag=dl.etag, last_modified=dl.created_at
        ):
            ranges = parse_range(h.get("range"), dl.size)
        if ranges is None:
            headers["Content-Length"] = str(dl.size)
            return await _respond(
                den, request, 200, headers, shown.content_type, dl, [ByteRange(0, dl.size - 1)]
            )
        if len(ranges) == 1:
            headers["Content-Range"] = ranges[0].content_range(dl.size)
            headers["Content-Length"] = str(ranges[0].length)
            return await _respond(den, request, 206, headers, shown.content_type, dl, ranges)
        boundary = secrets.token_hex(16)
        frames = [
            (
                f"\r\n--{boundary}\r\nContent-Type: {shown.content_type}\r\n"
                f"Content-Range: {r.content_range(dl.size)}\r\n\r\n"
            ).encode()
            for r in ranges
        ]
        closing = f"\r\n--{boundary}--\r\n".encode()
        total = sum(len(f) for f in frames) + sum(r.length for r in ranges) + len(closing)
        headers["Content-Length"] = str(total)
        return StreamingResponse(
            await _multipart(den, dl, ranges, frames, closing),
            status_code=206,
            headers=headers,
            media_type=f"multipart/byteranges; boundary={boundary}",
        )

    return router


async def _respond(
    den: Den,
    request: Request,
    status: int,
    headers: dict[str, str],
    content_type: str,
    dl: Download,
    ranges: list[ByteRange],
) -> Response:
    if request.method == "HEAD" or dl.size == 0:
        return Response(status_code=status, headers=headers, media_type=content_type)
    r = ranges[0]
    return StreamingResponse(
        await _started(den.store.read(dl.parts, r.start, r.end)),
        status_code=status,
        headers=headers,
        media_type=content_type,
    )


async def _started(pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`pieces` with its first piece already read: a store that cannot serve the file fails
    the request with its own status (503, 500) rather than cutting a 200 short."""
    first = await anext(pieces)

    async def rest() -> AsyncIterator[bytes]:
        yield first
        async for piece in pieces:
            yield piece

    return rest()


async def _multipart(
    den: Den, dl: Download, ranges: list[ByteRange], frames: list[bytes], closing: bytes
) -> AsyncIterator[bytes]:
    reads = [den.store.read(dl.parts, r.start, r.end) for r in ranges]
    reads[0] = await _started(reads[0])
    return _sections(reads, frames, closing)


async def _sections(
    reads: list[AsyncIterator[bytes]], frames: list[bytes], closing: bytes
) -> AsyncIterator[bytes]:
    for frame, pieces in zip(frames, reads, strict=True):
        yield frame
        async for piece in pieces:
            yield piece
    yield closing
