"""Sign in with email and password.

1. Count the attempt against the account, the source, and the account from that source, before
   anything is checked; a locked key refuses at once (`too_many_attempts`).
2. Look the account up and verify the password, or a dummy hash if there is no account, so both
   failures cost the same and answer the same (`invalid_credentials`).
3. On success: rehash if the parameters changed, reset the account-and-source counter, then
   either ask for the second factor or open the session.
"""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AuditKind, LoginResultV1, LoginStatus, LoginV1
from contracts.inkpass.types import TokenKind
from inkpass.adapters import factors, users
from inkpass.adapters.users import User
from inkpass.domain.errors import InkPassError, invalid_credentials
from inkpass.service import throttling
from inkpass.service.deps import Deps
from inkpass.service.issuing import open_in, target_org
from inkpass.service.recording import audit, subject_hash
from inkpass.service.tx import transaction
from shared.auth import MFA_TTL_S


async def login(deps: Deps, request: LoginV1) -> LoginResultV1:
    limits = throttling.login_limits(deps, request.email, request.source_ip)
    source = throttling.normalised_ip(request.source_ip)
    locked = await throttling.reserve(deps, limits, source_ip=source)
    async with transaction(deps) as tx:
        user = await users.by_email(tx.session, request.email)
    stored = user.password_hash if user is not None else None
    verified = await deps.hasher.verify(stored, request.password.get_secret_value())
    if user is None or not verified.ok:
        async with transaction(deps) as tx:
            await audit(
                tx,
                deps,
                AuditKind.SIGN_IN_FAILED,
                user_id=user.id if user is not None else None,
                source_ip=source,
                subject=subject_hash(deps, request.email),
            )
        raise invalid_credentials()
    await throttling.succeeded(deps, reset=throttling.success_key(limits), locked=locked)
    if verified.needs_rehash:
        new_hash = await deps.hasher.hash(request.password.get_secret_value())
        async with transaction(deps) as tx:
            # Same password, same stamp: only the hash's parameters change.
            await users.change(tx.session, user.id, password_hash=new_hash)
    return await after_first_factor(
        deps,
        user,
        org_id=request.org_id,
        method="password",
        source_ip=source,
        user_agent=request.user_agent,
    )


async def after_first_factor(
    deps: Deps,
    user: User,
    *,
    org_id: str | None,
    method: str,
    source_ip: str | None,
    user_agent: str | None,
) -> LoginResultV1:
    """Shared by every first factor (password, emailed code, Google)."""
    if not user.active:
        raise InkPassError(InkPassErrorCode.ACCOUNT_DISABLED, "the account is disabled")
    if not user.email_verified:
        raise InkPassError(InkPassErrorCode.EMAIL_UNVERIFIED, "verify the email address first")
    org = await target_org(deps, user, org_id)
    async with transaction(deps) as tx:
        needs_mfa = await factors.is_enabled(tx.session, user.id)
    if needs_mfa:
        challenge, _ = deps.codec.issue(
            TokenKind.MFA,
            user_id=user.id,
            ttl_s=MFA_TTL_S,
            org_id=org,
            stamp=user.security_stamp,
        )
        return LoginResultV1(status=LoginStatus.MFA_REQUIRED, mfa_token=challenge)  # type: ignore[arg-type]
    async with transaction(deps, org) as tx:
        tokens = await open_in(
            tx,
            deps,
            user_id=user.id,
            stamp=user.security_stamp,
            mfa=False,
            method=method,
            source_ip=source_ip,
            user_agent=user_agent,
        )
    return LoginResultV1(status=LoginStatus.AUTHENTICATED, tokens=tokens)
