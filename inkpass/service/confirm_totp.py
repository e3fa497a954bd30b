"""Turn TOTP on with a first valid code; returns ten single-use backup codes."""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AuditKind, BackupCodesV1, ConfirmTotpV1
from inkpass.adapters import factors
from inkpass.domain.errors import InkPassError
from inkpass.service import second_factor
from inkpass.service.authn import caller, claims_of
from inkpass.service.backup_codes import replace_codes
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def confirm_totp(deps: Deps, request: ConfirmTotpV1) -> BackupCodesV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        if await factors.is_enabled(tx.session, me.user_id):
            raise InkPassError(InkPassErrorCode.TOTP_ALREADY_ENABLED, "TOTP is already on")
    await second_factor.verify(
        deps, me.user_id, totp_code=request.code, backup_code=None, confirming=True
    )
    async with transaction(deps) as tx:
        codes = await replace_codes(tx, deps, me.user_id)
        await audit(tx, deps, AuditKind.TOTP_ENABLED, user_id=me.user_id)
    return BackupCodesV1(codes=codes)  # type: ignore[arg-type]
