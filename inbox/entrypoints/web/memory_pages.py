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
from inbox.entrypoints.web.refusals import form_error, refusal
from inbox.service.auth import Principal, authorize

router = APIRouter(include_in_schema=False)


async def _memory_page(
    request: Request, principal: Principal, status: int = 200, **extra: Any
) -> Response:
    inbox = get_inbox(request)
    q = request.query_params
    text = q.get("text", "").strip()[:1000] or None
    tier = m.MemoryTier(q["tier"]) if q.get("tier") in m.MemoryTier._value2member_map_ else None
    memories: list[dict[str, Any]] = []
    next_cursor = None
    skipped = None
    try:
        if text:
            await authorize(inbox, principal, "tentacle.memory.search", "memory")
            payload = m.SearchMemoryV1(text=text, tier=tier, limit=50)
            hits = await ask_workspace(inbox, principal, m.MEMORY_SEARCH, payload)
            memories = [h.memory.model_dump(mode="json") for h in hits.hits]
            skipped = hits.semantic_skipped
        else:
            await authorize(inbox, principal, "tentacle.memory.list", "memory")
            cursor = q.get("cursor") or None
            listing = m.ListMemoriesV1(tier=tier, limit=25, cursor=cursor[:512] if cursor else None)
            found = await ask_workspace(inbox, principal, m.MEMORY_LIST, listing)
            memories = [mem.model_dump(mode="json") for mem in found.memories]
            next_cursor = found.next_cursor
    except InboxError as exc:
        status = http_status(exc)
        extra = {"error": form_error(exc), **extra}
    return page(
        request,
        "memory.html",
        status,
        signed_in=True,
        nav="memory",
        memories=memories,
        text=text or "",
        tier=tier.value if tier else "",
        next_cursor=next_cursor,
        semantic_skipped=skipped,
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
        return await _memory_page(request, principal, **refusal(exc))
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
