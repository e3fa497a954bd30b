"""The thread's chat forms without JavaScript: an approval answered by a plain form post."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.ids import is_token
from inbox.domain.errors import NotFound
from inbox.entrypoints.http.deps import get_inbox as inbox_of
from inbox.entrypoints.web.pages import form, login_redirect, redirect, signed_in
from inbox.service import chat
from inbox.service.auth import authorize

router = APIRouter(include_in_schema=False)


@router.post("/c/{conversation_id}/approvals/{approval_id}")
async def answer_approval(request: Request, conversation_id: str, approval_id: str) -> Response:
    principal = await signed_in(request)
    if principal is None:
        return login_redirect(request)
    if not is_token(conversation_id) or not is_token(approval_id):
        raise NotFound("no such approval")
    inbox = inbox_of(request)
    data = await form(request)
    await authorize(inbox, principal, "tentacle.chat.update", "conversation", conversation_id)
    feedback = data.get("feedback", "").strip()[:4000] or None
    approved = data.get("decision") != "reject"
    await chat.respond(inbox, principal, conversation_id, approval_id, approved, feedback)
    return redirect(request, f"/c/{conversation_id}")
