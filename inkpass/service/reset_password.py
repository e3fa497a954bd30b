"""Set a new password with a reset_password code: every session ends.

The code proves the address too, so an unverified account becomes verified (which is also how
the owner of an address takes back an account someone else registered with it).
"""

from __future__ import annotations

from sqlalchemy import func

from contracts.inkpass.models import (
    AuditKind,
    InkPassDoneV1,
    ResetPasswordV1,
    RevocationReason,
)
from contracts.inkpass.types import OtpPurpose
from inkpass.adapters import users
from inkpass.domain.errors import invalid_code
from inkpass.domain.passwords import check_new_password
from inkpass.service import otp_codes
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.revoking import end_everywhere
from inkpass.service.tx import transaction


async def reset_password(deps: Deps, request: ResetPasswordV1) -> InkPassDoneV1:
    new_password = request.new_password.get_secret_value()
    check_new_password(new_password, email=request.email)
    new_hash = await deps.hasher.hash(new_password)
    ok = False
    async with transaction(deps) as tx:
        user = await users.by_email(tx.session, request.email, lock="update")
        if user is not None and user.active:
            code = request.code.get_secret_value()
            ok = await otp_codes.consume(tx, deps, user.id, OtpPurpose.RESET_PASSWORD, code)
        if ok and user is not None:
            extra = {} if user.email_verified else {"email_verified_at": func.now()}
            await users.change_credentials(tx.session, user.id, password_hash=new_hash, **extra)
            await end_everywhere(tx, deps, user.id, RevocationReason.PASSWORD_RESET)
            await audit(tx, deps, AuditKind.PASSWORD_RESET, user_id=user.id)
    if not ok:
        raise invalid_code()
    return InkPassDoneV1()
