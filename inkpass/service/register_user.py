"""Sign up: an account, its first organisation (owned by it), and a verification code.

The reply is the same whether or not the address already had an account, and takes the same
work (the password is hashed either way); the owner of an existing account gets an email saying
someone tried to sign up with it, instead of a code.
"""

from __future__ import annotations

from contracts.ids import new_id
from contracts.inkpass.models import (
    AuditKind,
    OrgCreatedV1,
    RegisterUserV1,
    RegistrationAcceptedV1,
)
from contracts.inkpass.subjects import ORG_CREATED
from contracts.inkpass.types import OtpPurpose, Role
from inkpass.adapters import members, orgs, users
from inkpass.adapters.email import EmailKind
from inkpass.domain.passwords import check_new_password
from inkpass.service import otp_codes
from inkpass.service.deps import Deps
from inkpass.service.recording import audit, email
from inkpass.service.tx import transaction


async def register_user(deps: Deps, request: RegisterUserV1) -> RegistrationAcceptedV1:
    password = request.password.get_secret_value()
    check_new_password(password, email=request.email)
    password_hash = await deps.hasher.hash(password)
    user_id, org_id = new_id(), new_id()
    org_name = request.org_name or f"{request.display_name or request.email.split('@')[0]}'s org"
    async with transaction(deps, org_id) as tx:
        created = await users.insert(
            tx.session,
            user_id=user_id,
            email=request.email,
            password_hash=password_hash,
            display_name=request.display_name,
            verified=False,
            default_org_id=org_id,
        )
        if created:
            await orgs.create(tx.session, org_id=org_id, name=org_name, created_by=user_id)
            await members.add(tx.session, org_id=org_id, user_id=user_id, role=Role.OWNER)
            user = await users.by_id(tx.session, user_id)
            assert user is not None
            await otp_codes.issue(tx, deps, user, OtpPurpose.VERIFY_EMAIL)
            tx.publish(
                deps.bus.message(
                    ORG_CREATED,
                    OrgCreatedV1(org_id=org_id, name=org_name, owner_id=user_id),
                    org_id=org_id,
                )
            )
            await audit(tx, deps, AuditKind.SIGNED_UP, user_id=user_id)
            await audit(tx, deps, AuditKind.ORG_CREATED, org_id=org_id, user_id=user_id)
        else:
            existing = await users.by_email(tx.session, request.email)
            if existing is not None and existing.active:
                email(
                    tx,
                    deps,
                    EmailKind.ACCOUNT_EXISTS,
                    to=existing.email,
                    org_id=existing.default_org_id,
                    name=existing.display_name,
                    variables={},
                )
    return RegistrationAcceptedV1(email=request.email)
