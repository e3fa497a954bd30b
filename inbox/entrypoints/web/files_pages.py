"""The files page: the organisation's files in Den, uploads (streamed by the page's script
through the API's upload route), downloads (a redirect to a short-lived signed link) and
shareable signed links."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.den import subjects as ds
from contracts.den.models import CreateLinkV1, ListFilesV1
from contracts.ids import is_token
from inbox.domain.errors import InvalidRequest, NotFound
from inbox.entrypoints.http.deps import get_inbox
from inbox.entrypoints.http.task_routes import as_caller
from inbox.entrypoints.web.pages import form, login_redirect, page, signed_in
from inbox.service.auth import Principal, authorize

router = APIRouter(include_in_schema=False)

LINK_LIFETIMES = {"3600": "an hour", "86400": "a day", "604800": "a week"}


async def _files_page(request: Request, principal: Principal, **extra: Any) -> Response:
    inbox = get_inbox(request)
    await authorize(inbox, principal, "den.file.list", "file")
    cursor = request.query_params.get("cursor") or None
    try:
        payload = ListFilesV1(cursor=cursor, limit=100)
    except ValueError:
        raise InvalidRequest("the cursor is not one this list gave out") from None
    listed = await as_caller(inbox, principal, ds.FILE_LIST, payload)
    return page(
        request,
        "files.html",
        signed_in=True,
        nav="files",
        files=[f.model_dump(mode="json") for f in listed.files],
        next_cursor=listed.next_cursor,
        lifetimes=LINK_LIFETIMES,
        **extra,
    )


@router.get("/files")
async def files(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    notice = "Uploaded." if request.query_params.get("uploaded") else None
    return await _files_page(request, principal, notice=notice)


@router.post("/files/{file_id}/link")
async def share(request: Request, file_id: str) -> Response:
    """A signed link anyone holding it may download with, for the chosen time."""
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    if not is_token(file_id):
        raise NotFound("no such file")
    inbox = get_inbox(request)
    lifetime = (await form(request)).get("lifetime_s", "3600")
    if lifetime not in LINK_LIFETIMES:
        raise InvalidRequest("choose how long the link works")
    await authorize(inbox, principal, "den.link.create", "file", file_id)
    link = await as_caller(
        inbox,
        principal,
        ds.LINK_CREATE,
        CreateLinkV1(file_id=file_id, lifetime_s=int(lifetime), attachment=True),
    )
    return await _files_page(
        request,
        principal,
        link={"file_id": file_id, "url": link.url, "expires_at": link.expires_at.isoformat()},
    )
