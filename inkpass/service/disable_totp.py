"""Turn TOTP off, only after re-authentication: the password (or, for an account without one,
an emailed disable_totp code) and one more proof (a TOTP code, a backup code, or an emailed
disable_totp code for someone who lost the authenticator). Every other session ends."""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AuditKind, DisableTotpV1, InkPassDoneV1, RevocationReason
from contracts.inkpass.types import OtpPurpose
from inkpass.adapters import factors, users
from inkpass.domain.errors import InkPassError, invalid_code
from inkpass.service import otp_codes, second_factor
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.reauthenticate import reauthenticate
from inkpass.service.recording import audit
from inkpass.service.revoking import end_everywhere
from inkpass.service.tx import transaction


async def disable_totp(deps: Deps, request: DisableTotpV1) -> InkPassDoneV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        user = await users.by_id(tx.session, me.user_id)
        enabled = await factors.is_enabled(tx.session, me.user_id)
    assert user is not None
    if not enabled:
        raise InkPassError(InkPassErrorCode.TOTP_NOT_ENABLED, "TOTP is not on")
    proofs = [request.totp_code, request.backup_code, request.otp_code]
    if sum(p is not None for p in proofs) != 1:
        raise InkPassError(
            InkPassErrorCode.REAUTHENTICATION_REQUIRED,
            "give exactly one of totp_code, backup_code and otp_code",
        )
    if user.password_hash is None and request.otp_code is None:
        raise InkPassError(
            InkPassErrorCode.REAUTHENTICATION_REQUIRED, "an emailed disable_totp code is needed"
        )
    if user.password_hash is not None:
        await reauthenticate(deps, user, password=request.password)
    if request.otp_code is not None:
        async with transaction(deps) as tx:
            ok = await otp_codes.consume(
                tx, deps, user.id, OtpPurpose.DISABLE_TOTP, request.otp_code.get_secret_value()
            )
        if not ok:
            raise invalid_code()
    else:
        await second_factor.verify(
            deps, user.id, totp_code=request.totp_code, backup_code=request.backup_code
        )
    async with transaction(deps, claims.org_id) as tx:
        await factors.remove(tx.session, user.id)
        await end_everywhere(
            tx, deps, user.id, RevocationReason.SECOND_FACTOR_CHANGED, except_id=claims.session_id
        )
        await audit(tx, deps, AuditKind.TOTP_DISABLED, user_id=user.id)
    return InkPassDoneV1()
