"""Members of the organisation and invitations into it, fronting inkpass (which decides, on the
caller's own token, who may invite whom)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from contracts.inkpass import subjects as ip
from contracts.inkpass.models import InvitationV1, InviteMemberV1, ListMembersV1, MemberListV1
from contracts.inkpass.types import Email, Role
from inbox.entrypoints.http.auth_routes import ask, revealed, user_token
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep

router = APIRouter(prefix="/api/v1", tags=["members"])


class Invite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    email: Email
    role: Role


@router.get("/members", response_model=MemberListV1)
async def list_members(principal: PrincipalDep, inbox: InboxDep) -> dict[str, Any]:
    payload = ListMembersV1(access_token=user_token(principal))
    return revealed(await ask(inbox, ip.LIST_MEMBERS, payload))


@router.post("/invitations", status_code=201, response_model=InvitationV1)
async def invite(body: Invite, principal: PrincipalDep, inbox: InboxDep) -> dict[str, Any]:
    """Invite an address into the caller's organisation; inkpass emails the link to accept."""
    payload = InviteMemberV1(access_token=user_token(principal), email=body.email, role=body.role)
    return revealed(await ask(inbox, ip.INVITE_MEMBER, payload))
