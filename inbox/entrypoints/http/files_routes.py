"""Files through Den, notifications and integrations through Mimic.

Uploads stream: the request body goes to Den's signed single-request upload as it arrives
(never buffered here, and exempt from the JSON body limit; Den enforces its own quota and
sizes). Downloads are a redirect to a short-lived signed link on Den's own HTTP surface, so the
bytes never pass through the inbox at all.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from contracts.den import subjects as ds
from contracts.den.models import AuthorizeUploadV1, CreateLinkV1, GetFileV1, ListFilesV1
from contracts.ids import SubjectToken
from contracts.mimic.models import ListIntegrationsV1, ListNotificationsV1
from contracts.mimic.subjects import INTEGRATION_LIST, NOTIFICATION_LIST
from inbox.domain.errors import CodedError, InvalidRequest
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, authorize_caller
from inbox.entrypoints.http.task_routes import as_caller, dump

router = APIRouter(prefix="/api/v1", tags=["files", "notifications"])

DOWNLOAD_LINK_S = 60


class NewLink(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    lifetime_s: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    attachment: bool = False


@router.get("/files")
async def list_files(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    folder_id: SubjectToken | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "den.file.list", "file")
    payload = ListFilesV1(folder_id=folder_id, cursor=cursor, limit=limit)
    return dump(await as_caller(inbox, principal, ds.FILE_LIST, payload))


@router.put("/files/upload/{name}", status_code=201)
async def upload(
    name: Annotated[str, Field(min_length=1, max_length=255)],
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    folder_id: SubjectToken | None = None,
) -> JSONResponse:
    await authorize_caller(inbox, principal, request, "den.file.create", "file")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise InvalidRequest("an upload needs its Content-Length")
    grant = await as_caller(
        inbox, principal, ds.UPLOAD_AUTHORIZE, AuthorizeUploadV1(folder_id=folder_id, name=name)
    )
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0)) as client:
        try:
            answer = await client.put(
                grant.put_url,
                content=request.stream(),
                headers={"Content-Length": length, "Content-Type": "application/octet-stream"},
            )
        except httpx.HTTPError as exc:
            raise CodedError("inbox.files_unavailable", f"Den did not answer: {exc}", 503) from None
    if answer.status_code >= 400:
        try:
            error = answer.json().get("error") or {}
        except ValueError:
            error = {}
        raise CodedError(
            str(error.get("code") or "den.upload_failed"),
            str(error.get("message") or "Den refused the upload"),
            answer.status_code,
        )
    return JSONResponse(answer.json(), status_code=201)


@router.get("/files/{file_id}")
async def get_file(
    file_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "den.file.read", "file", file_id)
    return dump(await as_caller(inbox, principal, ds.FILE_GET, GetFileV1(file_id=file_id)))


@router.get("/files/{file_id}/download")
async def download(
    file_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> RedirectResponse:
    await authorize_caller(inbox, principal, request, "den.file.read", "file", file_id)
    link = await as_caller(
        inbox,
        principal,
        ds.LINK_CREATE,
        CreateLinkV1(file_id=file_id, lifetime_s=DOWNLOAD_LINK_S, attachment=True),
    )
    return RedirectResponse(link.url, status_code=307)


@router.post("/files/{file_id}/links", status_code=201)
async def create_link(
    file_id: SubjectToken,
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    body: NewLink | None = None,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "den.link.create", "file", file_id)
    payload = CreateLinkV1(
        file_id=file_id,
        lifetime_s=body.lifetime_s if body else None,
        attachment=body.attachment if body else False,
    )
    return dump(await as_caller(inbox, principal, ds.LINK_CREATE, payload))


@router.get("/notifications")
async def list_notifications(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "mimic.notification.list", "notification")
    payload = ListNotificationsV1(limit=limit)
    return dump(await as_caller(inbox, principal, NOTIFICATION_LIST, payload))


@router.get("/integrations")
async def list_integrations(
    principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "mimic.integration.list", "integration")
    return dump(await as_caller(inbox, principal, INTEGRATION_LIST, ListIntegrationsV1()))
