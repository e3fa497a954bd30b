"""One-time passwords: bound to one purpose, single use, ten minutes, five tries, throttled."""

from __future__ import annotations

from pydantic import SecretStr

from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    LoginStatus,
    LoginWithOtpV1,
    RegisterUserV1,
    RequestOtpV1,
    ResetPasswordV1,
    VerifyEmailV1,
)
from contracts.inkpass.types import OtpPurpose
from shared.bus import Bus
from shared.service import ServiceApp
from tests.inkpass.conftest import (
    PASSWORD,
    Db,
    Mailbox,
    new_account,
    new_email,
    remote_error,
    snapshot,
)


def _without_otps(state: dict[str, list[str]]) -> dict[str, list[str]]:
    # Wrong guesses are counted on the code's row by design; everything else must not move.
    return {k: v for k, v in state.items() if k != "otps"}


async def test_a_code_for_one_purpose_is_useless_for_another(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    bob = await new_account(bus, mailbox, "bob")
    await bus.request(s.REQUEST_OTP, RequestOtpV1(email=alice.email, purpose=OtpPurpose.LOGIN))
    code = await mailbox.code(alice.email, "sign_in_code")
    before = await snapshot(db)
    misuses = [
        bus.request(
            s.RESET_PASSWORD,
            ResetPasswordV1(
                email=alice.email, code=code, new_password=SecretStr("taken over, ha ha")
            ),
        ),
        bus.request(s.VERIFY_EMAIL, VerifyEmailV1(email=alice.email, code=code)),
        # Another person's address with this code.
        bus.request(s.LOGIN_WITH_OTP, LoginWithOtpV1(email=bob.email, code=code)),
    ]
    for misuse in misuses:
        assert (await remote_error(misuse)).code == "inkpass.invalid_code"
    assert _without_otps(await snapshot(db)) == _without_otps(before)
    # Used for its purpose, it works once.
    result = await bus.request(
        s.LOGIN_WITH_OTP,
        LoginWithOtpV1(email=alice.email, code=code),
    )
    assert result.status is LoginStatus.AUTHENTICATED
    err = await remote_error(
        bus.request(s.LOGIN_WITH_OTP, LoginWithOtpV1(email=alice.email, code=code))
    )
    assert err.code == "inkpass.invalid_code"


async def test_five_wrong_guesses_kill_the_code(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    await bus.request(
        s.REQUEST_OTP, RequestOtpV1(email=alice.email, purpose=OtpPurpose.RESET_PASSWORD)
    )
    code = await mailbox.code(alice.email, "reset_password")
    wrong = f"{(int(code.get_secret_value()) + 1) % 1_000_000:06d}"
    for _ in range(5):
        await remote_error(
            bus.request(
                s.RESET_PASSWORD,
                ResetPasswordV1(
                    email=alice.email,
                    code=SecretStr(wrong),
                    new_password=SecretStr("guessing away"),
                ),
            )
        )
    err = await remote_error(
        bus.request(
            s.RESET_PASSWORD,
            ResetPasswordV1(
                email=alice.email, code=code, new_password=SecretStr("now the right one")
            ),
        )
    )
    assert err.code == "inkpass.invalid_code"


async def test_an_expired_code_is_refused(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    email = new_email("late")
    await bus.request(s.REGISTER, RegisterUserV1(email=email, password=SecretStr(PASSWORD)))
    code = await mailbox.code(email, "verify_email")
    await db.execute("update otps set expires_at = now() - interval '1 second'")
    err = await remote_error(bus.request(s.VERIFY_EMAIL, VerifyEmailV1(email=email, code=code)))
    assert err.code == "inkpass.invalid_code"
    # A new code replaces the old one, which stays dead.
    await bus.request(s.REQUEST_OTP, RequestOtpV1(email=email, purpose=OtpPurpose.VERIFY_EMAIL))
    fresh = await mailbox.code(email, "verify_email", after=1)
    assert (await bus.request(s.VERIFY_EMAIL, VerifyEmailV1(email=email, code=fresh))).user_id


async def test_requests_answer_alike_and_are_throttled(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    nobody = new_email("nobody")
    reply = await bus.request(
        s.REQUEST_OTP, RequestOtpV1(email=nobody, purpose=OtpPurpose.RESET_PASSWORD)
    )
    assert reply.done
    assert mailbox.count(nobody) == 0
    alice = await new_account(bus, mailbox, "alice")
    for _ in range(5):
        await bus.request(s.REQUEST_OTP, RequestOtpV1(email=alice.email, purpose=OtpPurpose.LOGIN))
    err = await remote_error(
        bus.request(s.REQUEST_OTP, RequestOtpV1(email=alice.email, purpose=OtpPurpose.LOGIN))
    )
    assert err.code == "inkpass.too_many_attempts"
    stored = await db.fetch("select code_hash from otps where user_id = $1", alice.user_id)
    sent = [m for _, m in mailbox.sent if m.to.address == alice.email]
    codes = {str(m.variables["code"]).encode() for m in sent if "code" in m.variables}
    assert stored
    assert all(code not in row["code_hash"] for row in stored for code in codes)
