"""Confirm an address with its verify_email code."""

from __future__ import annotations

from sqlalchemy import func

from contracts.inkpass.models import AuditKind, EmailVerifiedV1, VerifyEmailV1
from contracts.inkpass.types import OtpPurpose
from inkpass.adapters import users
from inkpass.domain.errors import invalid_code
from inkpass.service import otp_codes
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def verify_email(deps: Deps, request: VerifyEmailV1) -> EmailVerifiedV1:
    ok = False
    async with transaction(deps) as tx:
        user = await users.by_email(tx.session, request.email)
        if user is not None and user.active:
            code = request.code.get_secret_value()
            ok = await otp_codes.consume(tx, deps, user.id, OtpPurpose.VERIFY_EMAIL, code)
            if ok and not user.email_verified:
                await users.change(tx.session, user.id, email_verified_at=func.now())
                await audit(tx, deps, AuditKind.EMAIL_VERIFIED, user_id=user.id)
    if not ok or user is None:
        raise invalid_code()
    return EmailVerifiedV1(user_id=user.id)
