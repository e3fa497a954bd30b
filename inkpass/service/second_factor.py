"""Checking a TOTP or backup code: throttled, replay-proof, audited when it fails."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import AuditKind
from inkpass.adapters import factors
from inkpass.adapters import totp as totp_codes
from inkpass.domain.errors import InkPassError
from inkpass.service import throttling
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


def backup_code_hash(deps: Deps, user_id: str, code: str) -> bytes:
    normalised = code.replace("-", "").upper()
    message = b"\x00".join((b"backup-v1", user_id.encode(), normalised.encode()))
    return hmac.new(deps.secrets.backup_codes, message, hashlib.sha256).digest()


async def verify(
    deps: Deps,
    user_id: str,
    *,
    totp_code: SecretStr | None,
    backup_code: SecretStr | None,
    confirming: bool = False,
    source_ip: str | None = None,
) -> str:
    """Check one second factor; the method used ("totp" or "backup_code"), else an error.

    Attempts are counted per person before the check (five per five minutes, then locked).
    """
    key = f"mfa:{user_id}"
    locked = await throttling.reserve(
        deps, {key: deps.limits.mfa}, user_id=user_id, source_ip=source_ip
    )
    failure: InkPassError | None = None
    method = "totp" if totp_code is not None else "backup_code"
    async with transaction(deps) as tx:
        factor = await factors.get(tx.session, deps.keyring, user_id, lock=True)
        if factor is None or (not factor.confirmed and not confirming):
            failure = InkPassError(InkPassErrorCode.TOTP_NOT_ENABLED, "no second factor is set up")
        elif totp_code is not None:
            step = totp_codes.matching_step(factor.secret, totp_code.get_secret_value(), deps.now())
            if step is None:
                failure = InkPassError(InkPassErrorCode.INVALID_MFA_CODE, "the code is wrong")
            elif not await factors.use_step(tx.session, user_id, step, confirm=confirming):
                failure = InkPassError(
                    InkPassErrorCode.MFA_CODE_REPLAYED, "this code was already used"
                )
            else:
                await factors.rotate_secret(tx.session, deps.keyring, user_id)
        elif backup_code is None or not await factors.use_backup_code(
            tx.session, user_id, backup_code_hash(deps, user_id, backup_code.get_secret_value())
        ):
            failure = InkPassError(InkPassErrorCode.INVALID_MFA_CODE, "the code is wrong")
        else:
            await audit(tx, deps, AuditKind.BACKUP_CODE_USED, user_id=user_id)
        if failure is not None:
            await audit(
                tx,
                deps,
                AuditKind.MFA_FAILED,
                user_id=user_id,
                source_ip=throttling.normalised_ip(source_ip),
                reason=failure.code,
            )
    if failure is not None:
        raise failure
    await throttling.succeeded(deps, reset=[key], locked=locked)
    return method
