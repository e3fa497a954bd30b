"""The memory page: search the organisation's memory (or see what changed lately), add or
update a memory, forget one; through the same authorisation and contracts as the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from contracts.tentacle import memory as m
from inbox.domain.errors import InboxError, InvalidRequest, http_status
from inbox.entrypoints.http.deps import get_inbox
from inbox.entrypoints.http.workspace_calls import ask_workspace
from inbox.entrypoints.web.pages import form, login_redirect, page, redirect, signed_in
from inbox.service.auth import Principal, authorize

router = APIRouter(include_in_schema=False)


async def _memory_page(
    request: Request, principal: Principal, status: int = 200, **extra: Any
) -> Response:
    inbox = get_inbox(request)
    text = request.query_params.get("text", "").strip()[:1000] or None
    tier_name = request.query_params.get("tier", "")
    tier = m.MemoryTier(tier_name) if tier_name in m.MemoryTier._value2member_map_ else None
    action = "tentacle.memory.search" if text else "tentacle.memory.list"
    await authorize(inbox, principal, action, "memory")
    hits = await ask_workspace(
        inbox, principal, m.MEMORY_SEARCH, m.SearchMemoryV1(text=text, tier=tier, limit=50)
    )
    return page(
        request,
        "memory.html",
        status,
        signed_in=True,
        nav="memory",
        hits=[h.model_dump(mode="json") for h in hits.hits],
        text=text or "",
        tier=tier.value if tier else "",
        **extra,
    )


@router.get("/memory")
async def memory(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    notice = "Remembered." if request.query_params.get("saved") else None
    return await _memory_page(request, principal, notice=notice)


@router.post("/memory")
async def remember(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    inbox = get_inbox(request)
    data = await form(request)
    try:
        try:
            payload = m.StoreMemoryV1(
                key=data.get("key", "").strip(),
                title=data.get("title", "").strip(),
                body=data.get("body", "").strip(),
                topic=data.get("topic", "").strip() or None,
                tags=[t.strip() for t in data.get("tags", "").split(",") if t.strip()],
                tier=m.MemoryTier(data.get("tier") or "archival"),
                source=m.MemorySource.USER,
            )
        except ValueError as exc:  # a ValidationError, or an unknown tier
            if not isinstance(exc, ValidationError):
                raise InvalidRequest("choose a tier: core or archival") from None
            where = ", ".join(str(e["loc"][0]) for e in exc.errors() if e.get("loc"))
            raise InvalidRequest(f"check these fields: {where}") from None
        await authorize(inbox, principal, "tentacle.memory.write", "memory", payload.key)
        await ask_workspace(inbox, principal, m.MEMORY_STORE, payload)
    except InboxError as exc:
        return await _memory_page(
            request, principal, http_status(exc), error={"code": exc.code, "message": exc.message}
        )
    return redirect(request, "/memory?saved=1")


@router.post("/memory/forget")
async def forget(request: Request) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    inbox = get_inbox(request)
    try:
        payload = m.DeleteMemoryV1(key=(await form(request)).get("key", ""))
    except ValidationError:
        raise InvalidRequest("no such memory key") from None
    await authorize(inbox, principal, "tentacle.memory.delete", "memory", payload.key)
    await ask_workspace(inbox, principal, m.MEMORY_DELETE, payload)
    return redirect(request, "/memory")
