"""Replace every backup code, with a current TOTP code as proof."""

from __future__ import annotations

from contracts.inkpass.models import AuditKind, BackupCodesV1, RegenerateBackupCodesV1
from inkpass.service import second_factor
from inkpass.service.authn import caller, claims_of
from inkpass.service.backup_codes import replace_codes
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


async def regenerate_backup_codes(deps: Deps, request: RegenerateBackupCodesV1) -> BackupCodesV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
    await second_factor.verify(deps, me.user_id, totp_code=request.totp_code, backup_code=None)
    async with transaction(deps) as tx:
        codes = await replace_codes(tx, deps, me.user_id)
        await audit(tx, deps, AuditKind.BACKUP_CODES_REGENERATED, user_id=me.user_id)
    return BackupCodesV1(codes=codes)  # type: ignore[arg-type]
