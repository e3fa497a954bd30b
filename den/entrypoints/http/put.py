"""A whole file in one PUT (what an agent or `curl -T` does): all or nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from contracts.den.errors import DenErrorCode
from contracts.den.models import UploadState
from den.domain.errors import DenError
from den.domain.tus import parse_checksum, parse_int
from den.entrypoints.http.body import body_of
from den.entrypoints.http.tus import verify
from den.service import lookups
from den.service.cancel_upload import end_upload
from den.service.context import Den
from den.service.receive_upload import receive_upload
from den.service.start_upload import start_upload
from den.service.urls import UPLOAD_PUT
from den.service.views import file_view
from shared.logging import get_logger

log = get_logger(__name__)


def routes(den: Den) -> APIRouter:
    router = APIRouter()

    @router.put("/v1/orgs/{org_id}/uploads/{upload_id}/content")
    async def put(request: Request, org_id: str, upload_id: str) -> JSONResponse:
        verify(den, request, UPLOAD_PUT, org_id, upload_id)
        h = request.headers
        length = parse_int(h.get("content-length"), "Content-Length")
        checksum = parse_checksum(h.get("upload-checksum"))
        name = request.query_params.get("filename")
        await start_upload(den, org_id, upload_id, length=length, name=name, retry_ok=False)
        try:
            row = await receive_upload(
                den,
                org_id,
                upload_id,
                offset=0,
                body=body_of(request),
                checksum=checksum,
                body_length=length,
                final=True,
            )
            if row.state != UploadState.COMPLETED.value:
                raise DenError(DenErrorCode.LENGTH_MISMATCH, "the body ended early")
        except BaseException:
            try:
                await end_upload(den, org_id, upload_id, state=UploadState.FAILED, strict=False)
            except Exception as exc:  # the reconciler expires it
                log.warning("den.put_cleanup_failed", upload=upload_id, error=str(exc))
            raise
        async with den.db.transaction(org_id=org_id) as uow:
            file = file_view(await lookups.file(uow.session, str(row.file_id)), den.urls)
        return JSONResponse(file.model_dump(mode="json"), status_code=201)

    return router
