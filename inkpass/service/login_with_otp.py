"""Passwordless sign-in with an emailed code of purpose `login` (which also proves the address)."""

from __future__ import annotations

from sqlalchemy import func

from contracts.inkpass.models import AuditKind, LoginResultV1, LoginWithOtpV1
from contracts.inkpass.types import OtpPurpose
from inkpass.adapters import users
from inkpass.domain.errors import invalid_code
from inkpass.service import otp_codes, throttling
from inkpass.service.deps import Deps
from inkpass.service.login import after_first_factor
from inkpass.service.recording import audit, subject_hash
from inkpass.service.tx import transaction


async def login_with_otp(deps: Deps, request: LoginWithOtpV1) -> LoginResultV1:
    limits = throttling.login_limits(deps, request.email, request.source_ip)
    source = throttling.normalised_ip(request.source_ip)
    locked = await throttling.reserve(deps, limits, source_ip=source)
    ok = False
    async with transaction(deps) as tx:
        user = await users.by_email(tx.session, request.email)
        if user is not None:
            code = request.code.get_secret_value()
            ok = await otp_codes.consume(tx, deps, user.id, OtpPurpose.LOGIN, code)
            if ok and not user.email_verified:
                await users.change(tx.session, user.id, email_verified_at=func.now())
                user = await users.by_id(tx.session, user.id)
        if not ok:
            await audit(
                tx,
                deps,
                AuditKind.SIGN_IN_FAILED,
                user_id=user.id if user is not None else None,
                source_ip=source,
                subject=subject_hash(deps, request.email),
                method="otp",
            )
    if not ok or user is None:
        raise invalid_code()
    await throttling.succeeded(deps, reset=throttling.success_key(limits), locked=locked)
    return await after_first_factor(
        deps,
        user,
        org_id=request.org_id,
        method="otp",
        source_ip=source,
        user_agent=request.user_agent,
    )
