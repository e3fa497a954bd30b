"""Start TOTP enrolment: a new secret (sealed at rest), its otpauth URI and a QR code.

Nothing changes for sign-in until the first code confirms it (`confirm_totp`).
"""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import EnrollTotpV1, TotpEnrollmentV1
from inkpass.adapters import factors, users
from inkpass.adapters import totp as totp_codes
from inkpass.domain.errors import InkPassError
from inkpass.service.authn import caller, claims_of
from inkpass.service.deps import Deps
from inkpass.service.tx import transaction


async def enroll_totp(deps: Deps, request: EnrollTotpV1) -> TotpEnrollmentV1:
    claims = claims_of(deps, request.access_token)
    secret = totp_codes.new_secret()
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        if await factors.is_enabled(tx.session, me.user_id):
            raise InkPassError(InkPassErrorCode.TOTP_ALREADY_ENABLED, "TOTP is already on")
        user = await users.by_id(tx.session, me.user_id)
        assert user is not None
        await factors.put_pending(tx.session, deps.keyring, me.user_id, secret)
    uri = totp_codes.provisioning_uri(secret, account=user.email, issuer=deps.settings.totp_issuer)
    return TotpEnrollmentV1(
        secret=secret,  # type: ignore[arg-type]
        otpauth_uri=uri,  # type: ignore[arg-type]
        qr_svg=totp_codes.qr_svg(uri),  # type: ignore[arg-type]
    )
