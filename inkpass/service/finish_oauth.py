"""Complete a Google sign-in and sign the person in.

* The state must name a pending flow of this provider (single use: it is consumed first, so a
  replayed callback finds nothing), not expired.
* The code is redeemed with the flow's PKCE verifier; the ID token must verify against the
  provider's keys, for this client, with this flow's nonce.
* Only a verified address is believed. It finds the account already linked to this Google
  subject, else the account with that address (linked now), else a new account.
* Linking to an account whose address was never verified is the classic pre-registration
  takeover: whoever registered it may not own the address. The address is now proven, so the
  account is marked verified, its password removed and its sessions ended.
"""

from __future__ import annotations

from sqlalchemy import func

from contracts.ids import new_id
from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import (
    AuditKind,
    FinishOAuthV1,
    LoginResultV1,
    OrgCreatedV1,
    RevocationReason,
)
from contracts.inkpass.subjects import ORG_CREATED
from contracts.inkpass.types import Role
from inkpass.adapters import members, oauth_store, orgs, users
from inkpass.adapters.oauth import Identity, IdTokenInvalid
from inkpass.adapters.users import User
from inkpass.domain.errors import InkPassError
from inkpass.service import throttling
from inkpass.service.deps import Deps
from inkpass.service.login import after_first_factor
from inkpass.service.recording import audit
from inkpass.service.revoking import end_everywhere
from inkpass.service.tx import Tx, transaction


def _state_invalid() -> InkPassError:
    return InkPassError(InkPassErrorCode.OAUTH_STATE_INVALID, "unknown or expired sign-in flow")


async def finish_oauth(deps: Deps, request: FinishOAuthV1) -> LoginResultV1:
    if deps.oauth is None:
        raise InkPassError(InkPassErrorCode.OAUTH_NOT_CONFIGURED, "Google sign-in is not set up")
    async with transaction(deps) as tx:
        flow = await oauth_store.consume(tx.session, deps.keyring, request.state.get_secret_value())
    if flow is None or flow.provider != request.provider.value or flow.expires_at <= deps.now():
        raise _state_invalid()
    try:
        identity = await deps.oauth.redeem(
            code=request.code.get_secret_value(),
            redirect_uri=flow.redirect_uri,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
        )
    except IdTokenInvalid as exc:
        raise InkPassError(InkPassErrorCode.OAUTH_PROVIDER_ERROR, str(exc)) from None
    if not identity.email_verified:
        raise InkPassError(
            InkPassErrorCode.OAUTH_EMAIL_UNVERIFIED, "the provider has not verified this address"
        )
    user = await _account_for(deps, identity, request.provider.value)
    return await after_first_factor(
        deps,
        user,
        org_id=flow.org_id,
        method=request.provider.value,
        source_ip=throttling.normalised_ip(request.source_ip),
        user_agent=request.user_agent,
    )


async def _account_for(deps: Deps, identity: Identity, provider: str) -> User:
    org_id = new_id()
    async with transaction(deps, org_id) as tx:
        user_id = await oauth_store.user_of(tx.session, provider, identity.subject)
        user = await users.by_id(tx.session, user_id, lock="update") if user_id else None
        if user is None:
            user = await users.by_email(tx.session, identity.email, lock="update")
            if user is not None and not user.email_verified:
                await users.change_credentials(
                    tx.session, user.id, email_verified_at=func.now(), password_hash=None
                )
                await end_everywhere(tx, deps, user.id, RevocationReason.PASSWORD_RESET)
        if user is None:
            user = await _new_account(tx, deps, identity, org_id)
        await oauth_store.link(
            tx.session,
            deps.keyring,
            identity_id=new_id(),
            user_id=user.id,
            provider=provider,
            subject=identity.subject,
            email=identity.email,
            access_token=identity.access_token,
            refresh_token=identity.refresh_token,
            expires_at=identity.expires_at,
        )
        if user_id is None:
            await audit(tx, deps, AuditKind.OAUTH_LINKED, user_id=user.id, provider=provider)
        fresh = await users.by_id(tx.session, user.id)
    assert fresh is not None
    return fresh


async def _new_account(tx: Tx, deps: Deps, identity: Identity, org_id: str) -> User:
    user_id = new_id()
    name = identity.name or identity.email.split("@")[0]
    created = await users.insert(
        tx.session,
        user_id=user_id,
        email=identity.email,
        password_hash=None,
        display_name=identity.name,
        verified=True,
        default_org_id=org_id,
    )
    if not created:  # the same address signed up at this very moment: let the caller retry
        raise InkPassError(InkPassErrorCode.CONFLICT, "the account is being created; try again")
    await orgs.create(tx.session, org_id=org_id, name=f"{name}'s org", created_by=user_id)
    await members.add(tx.session, org_id=org_id, user_id=user_id, role=Role.OWNER)
    tx.publish(
        deps.bus.message(
            ORG_CREATED,
            OrgCreatedV1(org_id=org_id, name=f"{name}'s org", owner_id=user_id),
            org_id=org_id,
        )
    )
    await audit(tx, deps, AuditKind.SIGNED_UP, user_id=user_id, method="oauth")
    user = await users.by_id(tx.session, user_id)
    assert user is not None
    return user
