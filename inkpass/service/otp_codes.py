"""Issuing and consuming one-time passwords inside a unit of work."""

from __future__ import annotations

from datetime import timedelta

from pydantic import JsonValue

from contracts.inkpass.types import OtpPurpose
from inkpass.adapters import otps
from inkpass.adapters.email import EmailKind
from inkpass.adapters.users import User
from inkpass.domain import otp
from inkpass.service.deps import Deps
from inkpass.service.recording import email
from inkpass.service.tx import Tx

KINDS = {
    OtpPurpose.VERIFY_EMAIL: EmailKind.VERIFY_EMAIL,
    OtpPurpose.RESET_PASSWORD: EmailKind.RESET_PASSWORD,
    OtpPurpose.LOGIN: EmailKind.SIGN_IN_CODE,
    OtpPurpose.DISABLE_TOTP: EmailKind.DISABLE_TOTP_CODE,
    OtpPurpose.DELETE_ACCOUNT: EmailKind.DELETE_ACCOUNT_CODE,
}
# What the reader sees as the code's purpose in mimic's generic one-time-password email.
_PURPOSE_WORDS = {
    OtpPurpose.LOGIN: "sign-in",
    OtpPurpose.DISABLE_TOTP: "turn off two-factor authentication",
    OtpPurpose.DELETE_ACCOUNT: "account deletion",
}


def _variables(purpose: OtpPurpose, code: str, name: str | None) -> dict[str, JsonValue]:
    """Exactly what each mimic template declares (it refuses anything else)."""
    minutes = int(otp.TTL / timedelta(minutes=1))
    if purpose is OtpPurpose.VERIFY_EMAIL:
        return {"code": code, "name": name}
    if purpose is OtpPurpose.RESET_PASSWORD:
        return {"code": code, "name": name, "expires_in_minutes": minutes}
    return {"code": code, "purpose": _PURPOSE_WORDS[purpose], "expires_in_minutes": minutes}


async def issue(tx: Tx, deps: Deps, user: User, purpose: OtpPurpose) -> None:
    """Replace the person's code for `purpose` and email it."""
    code = otp.new_code()
    await otps.replace(
        tx.session,
        user_id=user.id,
        purpose=purpose,
        code_hash=otp.code_hash(deps.secrets.otp, user.id, purpose, code),
        expires_at=deps.now() + otp.TTL,
    )
    email(
        tx,
        deps,
        KINDS[purpose],
        to=user.email,
        org_id=user.default_org_id,
        name=user.display_name,
        variables=_variables(purpose, code, user.display_name),
    )


async def consume(tx: Tx, deps: Deps, user_id: str, purpose: OtpPurpose, code: str) -> bool:
    """Whether `code` is the person's live code for `purpose`; spends it if so.

    A wrong guess is counted (five and the code is dead). The caller must let the transaction
    commit either way and raise only after it, or the count would roll back with the error.
    """
    stored = await otps.for_update(tx.session, user_id, purpose)
    if stored is None or not otp.usable(stored, deps.now()):
        return False
    candidate = otp.code_hash(deps.secrets.otp, user_id, purpose, code)
    ok = otp.matches(stored, candidate)
    await otps.record_attempt(tx.session, user_id, purpose, consumed=ok)
    return ok
