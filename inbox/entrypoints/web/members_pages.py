"""The members page: who belongs to the organisation, and inviting someone (inkpass decides,
on the person's own token, whether they may invite and with which role; it emails the link)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import SecretStr

from contracts.inkpass import subjects as ip
from contracts.inkpass.models import InviteMemberV1, ListMembersV1
from contracts.inkpass.types import Role
from inbox.domain.errors import InboxError
from inbox.entrypoints.http.auth_routes import ask
from inbox.entrypoints.http.deps import get_inbox
from inbox.entrypoints.web.pages import form, login_redirect, page, person
from inbox.entrypoints.web.refusals import refusal
from inbox.service.auth import Principal

router = APIRouter(include_in_schema=False)


async def _members_page(
    request: Request, principal: Principal, status: int = 200, **extra: Any
) -> Response:
    token = SecretStr(principal.access_token or "")
    listed = await ask(get_inbox(request), ip.LIST_MEMBERS, ListMembersV1(access_token=token))
    return page(
        request,
        "members.html",
        status,
        signed_in=True,
        nav="settings",
        members=[mem.model_dump(mode="json") for mem in listed.members],
        roles=[r.value for r in Role],
        **extra,
    )


@router.get("/settings/members")
async def members(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    return await _members_page(request, principal)


@router.post("/settings/members/invite")
async def invite(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    data = await form(request)
    try:
        payload = InviteMemberV1(
            access_token=SecretStr(principal.access_token or ""),
            email=data.get("email", "").strip(),
            role=Role(data.get("role", "")),
        )
    except ValueError as exc:  # a ValidationError, or an unknown role
        refused = refusal(exc, "Enter an address and a role.")
        return await _members_page(request, principal, **refused)
    try:
        sent = await ask(get_inbox(request), ip.INVITE_MEMBER, payload)
    except InboxError as exc:
        return await _members_page(request, principal, **refusal(exc))
    notice = f"Invitation sent to {sent.email} as {sent.role.value}."
    return await _members_page(request, principal, notice=notice)
