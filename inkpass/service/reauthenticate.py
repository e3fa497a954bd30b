"""Proving again who one is before a sensitive change: the password, or an emailed code."""

from __future__ import annotations

from pydantic import SecretStr

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AuditKind
from contracts.inkpass.types import OtpPurpose
from inkpass.adapters.users import User
from inkpass.domain.errors import InkPassError, invalid_code, invalid_credentials
from inkpass.service import otp_codes, throttling
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def reauthenticate(
    deps: Deps,
    user: User,
    *,
    password: SecretStr | None,
    code: SecretStr | None = None,
    purpose: OtpPurpose | None = None,
) -> None:
    """The password if the account has one; otherwise a code of `purpose`. Throttled."""
    key = f"reauth:{user.id}"
    locked = await throttling.reserve(
        deps, {key: deps.limits.reauth}, user_id=user.id, source_ip=None
    )
    if user.password_hash is not None:
        if password is None:
            raise InkPassError(InkPassErrorCode.REAUTHENTICATION_REQUIRED, "the password is needed")
        verified = await deps.hasher.verify(user.password_hash, password.get_secret_value())
        ok = verified.ok
        failure = invalid_credentials()
    else:
        if code is None or purpose is None:
            raise InkPassError(
                InkPassErrorCode.REAUTHENTICATION_REQUIRED, "an emailed code is needed"
            )
        async with transaction(deps) as tx:
            ok = await otp_codes.consume(tx, deps, user.id, purpose, code.get_secret_value())
        failure = invalid_code()
    if not ok:
        async with transaction(deps) as tx:
            await audit(tx, deps, AuditKind.SIGN_IN_FAILED, user_id=user.id, step="reauthenticate")
        raise failure
    await throttling.succeeded(deps, reset=[key], locked=locked)
