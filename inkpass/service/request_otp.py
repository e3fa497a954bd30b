"""Email a one-time password for one purpose.

Always answers done, for addresses with and without an account alike; requests are limited per
address and purpose (so the feature cannot be used to flood someone's inbox).
"""

from __future__ import annotations

from contracts.inkpass.models import InkPassDoneV1, RequestOtpV1
from contracts.inkpass.types import OtpPurpose
from inkpass.adapters import users
from inkpass.service import otp_codes, throttling
from inkpass.service.deps import Deps
from inkpass.service.recording import subject_hash
from inkpass.service.tx import transaction


async def request_otp(deps: Deps, request: RequestOtpV1) -> InkPassDoneV1:
    key = f"otp:{request.purpose.value}:{subject_hash(deps, request.email)}"
    await throttling.reserve(deps, {key: deps.limits.otp_requests}, source_ip=None)
    async with transaction(deps) as tx:
        user = await users.by_email(tx.session, request.email)
        wanted = user is not None and user.active
        if user is not None and request.purpose is OtpPurpose.VERIFY_EMAIL and user.email_verified:
            wanted = False
        if wanted:
            assert user is not None
            await otp_codes.issue(tx, deps, user, request.purpose)
    return InkPassDoneV1()
