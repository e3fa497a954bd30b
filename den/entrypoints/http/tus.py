"""tus 1.0: core (HEAD, PATCH, OPTIONS), creation (+ with upload), checksum (sha256),
termination and expiration. Every URL but OPTIONS is signed: the creation endpoint comes from
`den.v1.rpc.upload.authorize`, the upload resource from the creation's Location."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Row

from contracts.den.errors import DenErrorCode
from contracts.den.http import FILE_ID_HEADER, TUS_VERSION
from contracts.den.models import UploadState
from contracts.ids import is_token
from den.adapters import repository as repo
from den.domain.errors import DenError
from den.domain.signing import parse_expires
from den.domain.tus import (
    CHECKSUM_ALGORITHMS,
    EXTENSIONS,
    OFFSET_CONTENT_TYPE,
    check_version,
    parse_checksum,
    parse_int,
    parse_metadata,
)
from den.entrypoints.http.body import body_of
from den.service import lookups
from den.service.cancel_upload import end_upload
from den.service.complete_upload import complete_upload
from den.service.context import Den
from den.service.receive_upload import receive_upload
from den.service.start_upload import start_upload
from den.service.urls import UPLOAD, UPLOAD_CREATE, claims

_GONE = (UploadState.CANCELLED.value, UploadState.EXPIRED.value, UploadState.FAILED.value)


def _not_found() -> DenError:
    return DenError(DenErrorCode.UPLOAD_NOT_FOUND, "no such upload")


def verify(den: Den, request: Request, purpose: str, org_id: str, upload_id: str | None) -> int:
    """Check the URL's signature for this upload and method; its expiry if good."""
    if not is_token(org_id) or upload_id is None or repo.as_uuid(upload_id) is None:
        raise _not_found()
    expires = parse_expires(request.query_params.get("expires"))
    now = int(den.now().timestamp())
    den.signer.verify(
        claims(purpose, org_id, upload_id, upload_id, expires),
        request.query_params.get("signature"),
        method=request.method,
        now=now,
    )
    return expires


def _state_headers(row: Row[Any]) -> dict[str, str]:
    headers = {
        "Tus-Resumable": TUS_VERSION,
        "Upload-Offset": str(row.byte_offset),
        "Upload-Expires": format_datetime(row.expires_at, usegmt=True),
        "Cache-Control": "no-store",
    }
    if row.length is not None:
        headers["Upload-Length"] = str(row.length)
    if row.file_id is not None:
        headers[FILE_ID_HEADER] = str(row.file_id)
    return headers


async def _finish_if_complete(den: Den, org_id: str, row: Row[Any]) -> Row[Any]:
    if row.state == UploadState.RECEIVING.value and row.byte_offset == row.length:
        return await complete_upload(den, org_id, str(row.id))
    return row


def routes(den: Den) -> APIRouter:
    router = APIRouter()
    options_headers = {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(den.settings.max_upload_bytes),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }

    @router.options("/v1/orgs/{org_id}/uploads")
    @router.options("/v1/orgs/{org_id}/uploads/{upload_id}")
    async def capabilities() -> Response:
        return Response(status_code=204, headers=options_headers)

    @router.post("/v1/orgs/{org_id}/uploads")
    async def create(request: Request, org_id: str) -> Response:
        check_version(request.headers.get("tus-resumable"))
        upload_id = request.query_params.get("upload")
        expires = verify(den, request, UPLOAD_CREATE, org_id, upload_id)
        assert upload_id is not None
        h = request.headers
        if "upload-defer-length" in h:
            raise DenError(DenErrorCode.BAD_REQUEST, "Upload-Defer-Length is not supported")
        length = parse_int(h.get("upload-length"), "Upload-Length")
        if length is None:
            raise DenError(DenErrorCode.BAD_REQUEST, "Upload-Length is required")
        metadata = parse_metadata(h.get("upload-metadata"))
        name = metadata.get("filename") or metadata.get("name")
        row = await start_upload(den, org_id, upload_id, length=length, name=name, retry_ok=True)
        with_body = h.get("content-type", "").split(";")[0].strip() == OFFSET_CONTENT_TYPE
        if with_body and row.byte_offset == 0:
            row = await receive_upload(
                den,
                org_id,
                upload_id,
                offset=0,
                body=body_of(request),
                checksum=parse_checksum(h.get("upload-checksum")),
                body_length=parse_int(h.get("content-length"), "Content-Length"),
            )
        row = await _finish_if_complete(den, org_id, row)  # an empty file is done at once
        headers = _state_headers(row)
        headers["Location"] = den.urls.upload_resource(org_id, str(row.id), expires)
        return Response(status_code=201, headers=headers)

    @router.head("/v1/orgs/{org_id}/uploads/{upload_id}")
    async def status(request: Request, org_id: str, upload_id: str) -> Response:
        check_version(request.headers.get("tus-resumable"))
        verify(den, request, UPLOAD, org_id, upload_id)
        async with den.db.transaction(org_id=org_id) as uow:
            row = await lookups.upload(uow.session, upload_id)
        if row.state in _GONE:
            raise DenError(DenErrorCode.UPLOAD_CLOSED, f"the upload is {row.state}")
        if row.state == UploadState.AUTHORIZED.value:
            raise _not_found()
        row = await _finish_if_complete(den, org_id, row)
        return Response(status_code=200, headers=_state_headers(row))

    @router.patch("/v1/orgs/{org_id}/uploads/{upload_id}")
    async def append(request: Request, org_id: str, upload_id: str) -> Response:
        check_version(request.headers.get("tus-resumable"))
        verify(den, request, UPLOAD, org_id, upload_id)
        h = request.headers
        if h.get("content-type", "").split(";")[0].strip() != OFFSET_CONTENT_TYPE:
            raise DenError(
                DenErrorCode.UNSUPPORTED_MEDIA_TYPE,
                f"PATCH bodies are {OFFSET_CONTENT_TYPE}",
            )
        offset = parse_int(h.get("upload-offset"), "Upload-Offset")
        if offset is None:
            raise DenError(DenErrorCode.BAD_REQUEST, "Upload-Offset is required")
        row = await receive_upload(
            den,
            org_id,
            upload_id,
            offset=offset,
            body=body_of(request),
            checksum=parse_checksum(h.get("upload-checksum")),
            body_length=parse_int(h.get("content-length"), "Content-Length"),
        )
        row = await _finish_if_complete(den, org_id, row)
        return Response(status_code=204, headers=_state_headers(row))

    @router.delete("/v1/orgs/{org_id}/uploads/{upload_id}")
    async def terminate(request: Request, org_id: str, upload_id: str) -> Response:
        check_version(request.headers.get("tus-resumable"))
        verify(den, request, UPLOAD, org_id, upload_id)
        await end_upload(den, org_id, upload_id, state=UploadState.CANCELLED)
        return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION})

    return router
