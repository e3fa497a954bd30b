"""Second step of a sign-in: the challenge from the first step plus a TOTP or backup code."""

from __future__ import annotations

from contracts.inkpass.errors import InkPassErrorCode
from contracts.inkpass.models import CompleteMfaV1, LoginResultV1, LoginStatus
from contracts.inkpass.types import TokenKind
from inkpass.domain.errors import InkPassError
from inkpass.service import second_factor, throttling
from inkpass.service.authn import claims_of
from inkpass.service.deps import Deps
from inkpass.service.issuing import open_in
from inkpass.service.tx import transaction


async def complete_mfa(deps: Deps, request: CompleteMfaV1) -> LoginResultV1:
    challenge = claims_of(deps, request.mfa_token, expect=TokenKind.MFA)
    if challenge.org_id is None or challenge.stamp is None:
        raise InkPassError(InkPassErrorCode.TOKEN_INVALID, "not a sign-in challenge")
    source = throttling.normalised_ip(request.source_ip)
    method = await second_factor.verify(
        deps,
        challenge.user_id,
        totp_code=request.totp_code,
        backup_code=request.backup_code,
        source_ip=source,
    )
    async with transaction(deps, challenge.org_id) as tx:
        tokens = await open_in(
            tx,
            deps,
            user_id=challenge.user_id,
            stamp=challenge.stamp,
            mfa=True,
            method=f"password+{method}",
            source_ip=source,
        )
    return LoginResultV1(status=LoginStatus.AUTHENTICATED, tokens=tokens)
