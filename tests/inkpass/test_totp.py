"""TOTP: enrolment (URI and QR), confirmation, sign-in with a second factor, replay, backup
codes, rate limits, disabling after re-authentication, and the secret sealed at rest."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pyotp
from pydantic import SecretStr

from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    CompleteMfaV1,
    ConfirmTotpV1,
    DisableTotpV1,
    EnrollTotpV1,
    GetProfileV1,
    LoginResultV1,
    LoginStatus,
    RegenerateBackupCodesV1,
    RequestOtpV1,
)
from contracts.inkpass.types import OtpPurpose
from shared.bus import Bus
from shared.crypto import Keyring
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from tests.inkpass.conftest import (
    PASSWORD,
    Account,
    Db,
    Mailbox,
    StartInkPass,
    login,
    new_account,
    remote_error,
    snapshot,
)


def _code(secret: str, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return str(totp.at(time.time() + offset_steps * 30))


async def _enable(bus: Bus, account: Account) -> tuple[str, list[str]]:
    enrolment = await bus.request(
        s.ENROLL_TOTP,
        EnrollTotpV1(access_token=account.access),
    )
    secret = enrolment.secret.get_secret_value()
    codes = await bus.request(
        s.CONFIRM_TOTP,
        ConfirmTotpV1(access_token=account.access, code=SecretStr(_code(secret))),
    )
    return secret, [c.get_secret_value() for c in codes.codes]


async def _challenge(bus: Bus, account: Account) -> str:
    result = await login(bus, account.email)
    assert result.status is LoginStatus.MFA_REQUIRED
    assert result.tokens is None
    assert result.mfa_token is not None
    return result.mfa_token.get_secret_value()


async def test_enrol_confirm_and_sign_in_with_a_second_factor(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    enrolment = await bus.request(s.ENROLL_TOTP, EnrollTotpV1(access_token=alice.access))
    uri = urlparse(enrolment.otpauth_uri.get_secret_value())
    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [enrolment.secret.get_secret_value()]
    assert parse_qs(uri.query)["issuer"] == ["fluxos"]
    assert enrolment.qr_svg.get_secret_value().startswith("<svg")
    # Not on until confirmed: signing in still needs one factor.
    assert (await login(bus, alice.email)).status is LoginStatus.AUTHENTICATED

    secret = enrolment.secret.get_secret_value()
    backup = await bus.request(
        s.CONFIRM_TOTP,
        ConfirmTotpV1(access_token=alice.access, code=SecretStr(_code(secret))),
    )
    assert len(backup.codes) >= 10
    assert len({c.get_secret_value() for c in backup.codes}) == len(backup.codes)

    # Sealed at rest: neither the secret nor a backup code is in the database.
    stored = await db.fetchval(
        "select secret_enc from totp_factors where user_id = $1", alice.user_id
    )
    assert secret.encode() not in stored
    hashes = await db.fetch("select code_hash from backup_codes where user_id = $1", alice.user_id)
    assert len(hashes) == len(backup.codes)
    assert all(
        c.get_secret_value().encode() not in h["code_hash"] for c in backup.codes for h in hashes
    )

    challenge = await _challenge(bus, alice)
    done = await bus.request(
        s.COMPLETE_MFA,
        CompleteMfaV1(mfa_token=SecretStr(challenge), totp_code=SecretStr(_code(secret, 1))),
    )
    assert done.tokens is not None
    profile = await bus.request(s.GET_PROFILE, GetProfileV1(access_token=done.tokens.access_token))
    assert profile.totp_enabled


async def test_a_used_code_is_never_accepted_again(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    secret, _ = await _enable(bus, alice)
    # The confirmation spent its step; that code and every earlier one are dead.
    spent = await db.fetchval(
        "select last_used_step from totp_factors where user_id = $1", alice.user_id
    )
    totp = pyotp.TOTP(secret)
    challenge = await _challenge(bus, alice)

    async def complete(code: str) -> LoginResultV1:
        return await bus.request(
            s.COMPLETE_MFA,
            CompleteMfaV1(mfa_token=SecretStr(challenge), totp_code=SecretStr(code)),
        )

    before = await snapshot(db)
    # Still inside the +-1 window (the test takes far less than a step).
    err = await remote_error(complete(str(totp.generate_otp(spent))))
    assert err.code == "inkpass.mfa_code_replayed"
    err = await remote_error(complete(str(totp.generate_otp(spent - 1))))
    assert err.code in {"inkpass.mfa_code_replayed", "inkpass.invalid_mfa_code"}
    assert await snapshot(db) == before
    fresh = str(totp.generate_otp(spent + 1))
    assert (await complete(fresh)).status is LoginStatus.AUTHENTICATED
    err = await remote_error(complete(fresh))
    assert err.code == "inkpass.mfa_code_replayed"


async def test_backup_codes_are_single_use(inkpass: ServiceApp, bus: Bus, mailbox: Mailbox) -> None:
    alice = await new_account(bus, mailbox, "alice")
    _, codes = await _enable(bus, alice)
    challenge = await _challenge(bus, alice)
    done = await bus.request(
        s.COMPLETE_MFA,
        CompleteMfaV1(mfa_token=SecretStr(challenge), backup_code=SecretStr(codes[0])),
    )
    assert done.status is LoginStatus.AUTHENTICATED
    err = await remote_error(
        bus.request(
            s.COMPLETE_MFA,
            CompleteMfaV1(mfa_token=SecretStr(challenge), backup_code=SecretStr(codes[0])),
        )
    )
    assert err.code == "inkpass.invalid_mfa_code"
    # Another person's challenge does not accept this person's codes.
    bob = await new_account(bus, mailbox, "bob")
    await _enable(bus, bob)
    bob_challenge = await _challenge(bus, bob)
    err = await remote_error(
        bus.request(
            s.COMPLETE_MFA,
            CompleteMfaV1(mfa_token=SecretStr(bob_challenge), backup_code=SecretStr(codes[1])),
        )
    )
    assert err.code == "inkpass.invalid_mfa_code"


async def test_second_factor_attempts_are_rate_limited(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    secret, _ = await _enable(bus, alice)
    challenge = await _challenge(bus, alice)
    wrong = "000000" if _code(secret, 1) != "000000" else "111111"
    for _ in range(5):
        err = await remote_error(
            bus.request(
                s.COMPLETE_MFA,
                CompleteMfaV1(mfa_token=SecretStr(challenge), totp_code=SecretStr(wrong)),
            )
        )
        assert err.code in {"inkpass.invalid_mfa_code", "inkpass.too_many_attempts"}
    err = await remote_error(
        bus.request(
            s.COMPLETE_MFA,
            CompleteMfaV1(mfa_token=SecretStr(challenge), totp_code=SecretStr(_code(secret, 1))),
        )
    )
    assert err.code == "inkpass.too_many_attempts"


async def test_disabling_needs_reauthentication(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    secret, codes = await _enable(bus, alice)
    before = await snapshot(db)
    attempts = [
        DisableTotpV1(access_token=alice.access, totp_code=SecretStr(_code(secret, 1))),
        DisableTotpV1(
            access_token=alice.access,
            password=SecretStr("wrong password"),
            totp_code=SecretStr(_code(secret, 1)),
        ),
        DisableTotpV1(access_token=alice.access, password=SecretStr(PASSWORD)),
    ]
    expected = [
        "inkpass.reauthentication_required",
        "inkpass.invalid_credentials",
        "inkpass.reauthentication_required",
    ]
    for request, code in zip(attempts, expected, strict=True):
        assert (await remote_error(bus.request(s.DISABLE_TOTP, request))).code == code
    # An emailed code for another purpose is no proof for this one.
    await bus.request(s.REQUEST_OTP, RequestOtpV1(email=alice.email, purpose=OtpPurpose.LOGIN))
    login_code = await mailbox.code(alice.email, "sign_in_code")
    err = await remote_error(
        bus.request(
            s.DISABLE_TOTP,
            DisableTotpV1(
                access_token=alice.access, password=SecretStr(PASSWORD), otp_code=login_code
            ),
        )
    )
    assert err.code == "inkpass.invalid_code"
    after = await snapshot(db)
    assert {k: v for k, v in after.items() if k != "otps"} == {
        k: v for k, v in before.items() if k != "otps"
    }

    await bus.request(
        s.DISABLE_TOTP,
        DisableTotpV1(
            access_token=alice.access, password=SecretStr(PASSWORD), backup_code=SecretStr(codes[0])
        ),
    )
    assert (await login(bus, alice.email)).status is LoginStatus.AUTHENTICATED
    kinds = await db.fetch("select kind from account_audit_log where user_id = $1", alice.user_id)
    assert {"totp_enabled", "totp_disabled", "backup_code_used"} <= {k["kind"] for k in kinds}


async def test_backup_codes_can_be_replaced(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    secret, old = await _enable(bus, alice)
    new = await bus.request(
        s.REGENERATE_BACKUP_CODES,
        RegenerateBackupCodesV1(access_token=alice.access, totp_code=SecretStr(_code(secret, 1))),
    )
    challenge = await _challenge(bus, alice)
    err = await remote_error(
        bus.request(
            s.COMPLETE_MFA,
            CompleteMfaV1(mfa_token=SecretStr(challenge), backup_code=SecretStr(old[0])),
        )
    )
    assert err.code == "inkpass.invalid_mfa_code"
    done = await bus.request(
        s.COMPLETE_MFA,
        CompleteMfaV1(
            mfa_token=SecretStr(challenge), backup_code=SecretStr(new.codes[0].get_secret_value())
        ),
    )
    assert done.status is LoginStatus.AUTHENTICATED


async def test_secrets_move_to_a_new_key_version_when_used(
    start_inkpass: StartInkPass,
    platform_settings: PlatformSettings,
    bus: Bus,
    mailbox: Mailbox,
    db: Db,
) -> None:
    old = {1: SecretStr("first-key-" + "x" * 30)}
    first = await start_inkpass(
        platform=platform_settings.model_copy(update={"encryption_keys": old})
    )
    alice = await new_account(bus, mailbox, "alice")
    secret, _ = await _enable(bus, alice)
    sealed = await db.fetchval(
        "select secret_enc from totp_factors where user_id = $1", alice.user_id
    )
    assert Keyring.version_of(sealed) == 1
    await first.stop()
    rotated = {**old, 2: SecretStr("second-key-" + "y" * 30)}
    await start_inkpass(platform=platform_settings.model_copy(update={"encryption_keys": rotated}))
    challenge = await _challenge(bus, alice)
    done = await bus.request(
        s.COMPLETE_MFA,
        CompleteMfaV1(mfa_token=SecretStr(challenge), totp_code=SecretStr(_code(secret, 1))),
    )
    assert done.status is LoginStatus.AUTHENTICATED
    sealed = await db.fetchval(
        "select secret_enc from totp_factors where user_id = $1", alice.user_id
    )
    assert Keyring.version_of(sealed) == 2
