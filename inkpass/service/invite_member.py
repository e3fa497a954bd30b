"""Invite an address into the caller's organisation; the invitation is emailed with a token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from contracts.ids import new_id
from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AuditKind, InvitationV1, InviteMemberV1
from inkpass.adapters import invitations, members, orgs, users
from inkpass.adapters.email import EmailKind
from inkpass.domain.errors import InkPassError, forbidden
from inkpass.domain.roles import Actions, may_assign
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.recording import audit, email
from inkpass.service.tx import transaction


def invitation_hash(deps: Deps, invitation_id: str, token: str) -> bytes:
    message = b"\x00".join((b"invitation-v1", invitation_id.encode(), token.encode()))
    return hmac.new(deps.secrets.invitations, message, hashlib.sha256).digest()


async def invite_member(deps: Deps, request: InviteMemberV1) -> InvitationV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        await require(
            deps,
            tx.session,
            org_id=me.org_id,
            user_id=me.user_id,
            role=me.role,
            mfa=claims.mfa,
            action=Actions.MEMBER_INVITE,
        )
        if not may_assign(me.role, request.role):
            raise forbidden(f"a {me.role.value} cannot invite a {request.role.value}")
        existing = await users.by_email(tx.session, request.email)
        if existing is not None and await members.get(tx.session, me.org_id, existing.id):
            raise InkPassError(InkPassErrorCode.CONFLICT, "already a member")
        org = await orgs.get(tx.session, me.org_id)
        assert org is not None
        invitation_id, token = new_id(), secrets.token_urlsafe(32)
        expires_at = deps.now() + timedelta(seconds=deps.settings.invitation_ttl_s)
        await invitations.create(
            tx.session,
            invitation_id=invitation_id,
            org_id=me.org_id,
            email=request.email,
            role=request.role,
            token_hash=invitation_hash(deps, invitation_id, token),
            invited_by=me.user_id,
            expires_at=expires_at,
        )
        inviter = await users.by_id(tx.session, me.user_id)
        assert inviter is not None
        link = urlencode({"org_id": me.org_id, "invitation_id": invitation_id, "token": token})
        email(
            tx,
            deps,
            EmailKind.INVITATION,
            to=request.email,
            org_id=me.org_id,
            variables={
                "inviter_name": inviter.display_name or inviter.email,
                "org_name": org.name,
                "accept_url": f"{deps.settings.invitation_url}?{link}",
            },
        )
        await audit(
            tx,
            deps,
            AuditKind.MEMBER_INVITED,
            org_id=me.org_id,
            actor_id=me.user_id,
            invitation_id=invitation_id,
            role=request.role.value,
        )
    return InvitationV1(
        invitation_id=invitation_id,
        org_id=me.org_id,
        email=request.email,
        role=request.role,
        expires_at=expires_at,
    )
