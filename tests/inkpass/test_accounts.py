"""Accounts: sign-up, email verification, sign-in, profile, passwords, deletion, disabling."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from contracts.envelope import Actor, ActorKind
from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    ChangePasswordV1,
    DeleteAccountV1,
    DisableUserV1,
    EnableUserV1,
    GetProfileV1,
    LoginStatus,
    LoginV1,
    RegisterUserV1,
    RequestOtpV1,
    ResetPasswordV1,
    UpdateProfileV1,
    VerifyEmailV1,
    VerifyTokenV1,
)
from contracts.inkpass.types import OtpPurpose
from contracts.platform.errors import BusErrorCode
from shared.bus import Bus
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from tests.inkpass.conftest import (
    PASSWORD,
    Db,
    Mailbox,
    StartInkPass,
    login,
    new_account,
    new_email,
    register,
    remote_error,
    snapshot,
    tokens,
)


async def test_sign_up_verify_and_sign_in(inkpass: ServiceApp, bus: Bus, mailbox: Mailbox) -> None:
    email = new_email("ada")
    reply = await bus.request(
        s.REGISTER,
        RegisterUserV1(email=email.upper(), password=SecretStr(PASSWORD), display_name="Ada"),
    )
    assert reply.email == email  # addresses are compared case-insensitively
    mail = await mailbox.wait_for(email, "verify_email")
    code = str(mail.variables["code"])
    assert len(code) == 6
    assert code.isdigit()

    # Right password, unverified address: told so (only once the password is proven).
    err = await remote_error(login(bus, email))
    assert err.code == "inkpass.email_unverified"

    verified = await bus.request(s.VERIFY_EMAIL, VerifyEmailV1(email=email, code=SecretStr(code)))
    pair = await tokens(bus, email)
    assert pair.user_id == verified.user_id
    assert pair.expires_in == 30 * 60
    assert pair.refresh_expires_in == 7 * 24 * 3600
    assert [r.value for r in pair.roles] == ["owner"]

    profile = await bus.request(s.GET_PROFILE, GetProfileV1(access_token=pair.access_token))
    assert profile.email == email
    assert profile.email_verified
    assert profile.display_name == "Ada"
    assert [o.org_id for o in profile.orgs] == [pair.org_id]

    # The code was single use.
    again = await remote_error(
        bus.request(s.VERIFY_EMAIL, VerifyEmailV1(email=email, code=SecretStr(code)))
    )
    assert again.code == "inkpass.invalid_code"


async def test_signing_up_twice_answers_the_same_and_changes_nothing(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    before = await snapshot(db)
    reply = await bus.request(
        s.REGISTER,
        RegisterUserV1(email=alice.email, password=SecretStr("another long password!")),
    )
    assert reply.email == alice.email
    assert reply.verification_sent
    # The owner hears about it; nobody gets a code for the existing account.
    await mailbox.wait_for(alice.email, "account_exists")
    assert mailbox.count(alice.email, "verify_email") == 1
    assert await snapshot(db) == before
    # The old password still works, the new one does not.
    await tokens(bus, alice.email)
    err = await remote_error(login(bus, alice.email, "another long password!"))
    assert err.code == "inkpass.invalid_credentials"


async def test_mass_assignment_at_sign_up_is_refused(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    email = new_email("mallory")
    msg = bus.message(s.REGISTER, RegisterUserV1(email=email, password=SecretStr(PASSWORD)))
    body = json.loads(msg.body)
    body["data"].update(email_verified=True, role="owner", status="active", org_id="victim-org")
    before = await snapshot(db)
    response = await bus.request_raw(msg.subject, json.dumps(body).encode(), timeout=5)
    reply = json.loads(response)
    assert reply["ok"] is False
    assert reply["error"]["code"] == BusErrorCode.INVALID_PAYLOAD
    assert await snapshot(db) == before


async def test_tolerant_readers_drop_privileged_fields(
    start_inkpass: StartInkPass, platform_settings: PlatformSettings, bus: Bus
) -> None:
    """A production (non-strict) inkpass ignores unknown fields: they grant nothing."""
    await start_inkpass(platform=platform_settings.model_copy(update={"strict_contracts": False}))
    email = new_email("mallory")
    msg = bus.message(s.REGISTER, RegisterUserV1(email=email, password=SecretStr(PASSWORD)))
    body = json.loads(msg.body)
    body["data"].update(email_verified=True, role="owner")
    response = await bus.request_raw(msg.subject, json.dumps(body).encode(), timeout=5)
    assert json.loads(response)["ok"] is True
    err = await remote_error(login(bus, email))
    assert err.code == "inkpass.email_unverified"  # the injected flag was dropped


async def test_profile_update_cannot_touch_privileged_fields(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    msg = bus.message(
        s.UPDATE_PROFILE,
        UpdateProfileV1(access_token=alice.access, display_name="Alice"),
    )
    body = json.loads(msg.body)
    body["data"].update(email="victim@example.com", email_verified=True, status="active")
    before = await snapshot(db)
    response = await bus.request_raw(msg.subject, json.dumps(body).encode(), timeout=5)
    assert json.loads(response)["error"]["code"] == BusErrorCode.INVALID_PAYLOAD
    assert await snapshot(db) == before
    profile = await bus.request(
        s.UPDATE_PROFILE,
        UpdateProfileV1(access_token=alice.access, display_name="Alice"),
    )
    assert profile.display_name == "Alice"
    assert profile.email == alice.email


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", BusErrorCode.INVALID_PAYLOAD),
        ("x" * 257, BusErrorCode.INVALID_PAYLOAD),  # bounded: hashing is never a DoS lever
        ("password123", "inkpass.weak_password"),
        ("aaaaaaaaaaaaaa", "inkpass.weak_password"),
    ],
)
async def test_weak_or_unbounded_passwords_are_refused(
    inkpass: ServiceApp, bus: Bus, db: Db, password: str, code: str
) -> None:
    before = await snapshot(db)
    msg = bus.message(s.REGISTER, RegisterUserV1(email=new_email(), password=SecretStr(PASSWORD)))
    body = json.loads(msg.body)
    body["data"]["password"] = password
    response = await bus.request_raw(msg.subject, json.dumps(body).encode(), timeout=5)
    assert json.loads(response)["error"]["code"] == code
    assert await snapshot(db) == before


async def test_a_huge_password_at_sign_in_is_refused_before_hashing(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    msg = bus.message(s.LOGIN, LoginV1(email=alice.email, password=SecretStr("x")))
    body = json.loads(msg.body)
    body["data"]["password"] = "p" * 100_000
    response = await bus.request_raw(msg.subject, json.dumps(body).encode(), timeout=5)
    assert json.loads(response)["error"]["code"] == BusErrorCode.INVALID_PAYLOAD


async def test_change_password_ends_every_session(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    other = await tokens(bus, alice.email)
    fresh = await bus.request(
        s.CHANGE_PASSWORD,
        ChangePasswordV1(
            access_token=alice.access,
            current_password=SecretStr(PASSWORD),
            new_password=SecretStr("a brand new passphrase"),
        ),
    )
    for old in (alice.access, other.access_token):
        err = await remote_error(bus.request(s.VERIFY_TOKEN, VerifyTokenV1(token=old)))
        assert err.code == "inkpass.token_revoked"
    await bus.request(s.VERIFY_TOKEN, VerifyTokenV1(token=fresh.access_token))
    assert (await remote_error(login(bus, alice.email))).code == "inkpass.invalid_credentials"
    await tokens(bus, alice.email, "a brand new passphrase")
    await mailbox.wait_for(alice.email, "password_changed")


async def test_change_password_needs_the_current_one(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    before = await snapshot(db)
    err = await remote_error(
        bus.request(
            s.CHANGE_PASSWORD,
            ChangePasswordV1(
                access_token=alice.access,
                current_password=SecretStr("not my password"),
                new_password=SecretStr("a brand new passphrase"),
            ),
        )
    )
    assert err.code == "inkpass.invalid_credentials"
    assert await snapshot(db) == before


async def test_reset_password_by_emailed_code(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    await bus.request(
        s.REQUEST_OTP, RequestOtpV1(email=alice.email, purpose=OtpPurpose.RESET_PASSWORD)
    )
    code = await mailbox.code(alice.email, "reset_password")
    await bus.request(
        s.RESET_PASSWORD,
        ResetPasswordV1(
            email=alice.email, code=code, new_password=SecretStr("reset to something long")
        ),
    )
    err = await remote_error(bus.request(s.VERIFY_TOKEN, VerifyTokenV1(token=alice.access)))
    assert err.code == "inkpass.token_revoked"
    await tokens(bus, alice.email, "reset to something long")
    # Single use.
    err = await remote_error(
        bus.request(
            s.RESET_PASSWORD,
            ResetPasswordV1(
                email=alice.email, code=code, new_password=SecretStr("and once more, long")
            ),
        )
    )
    assert err.code == "inkpass.invalid_code"


async def test_delete_account_needs_reauthentication_and_another_owner(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    before = await snapshot(db)
    wrong = await remote_error(
        bus.request(
            s.DELETE_ACCOUNT,
            DeleteAccountV1(access_token=alice.access, password=SecretStr("wrong password")),
        )
    )
    assert wrong.code == "inkpass.invalid_credentials"
    sole_owner = await remote_error(
        bus.request(
            s.DELETE_ACCOUNT,
            DeleteAccountV1(access_token=alice.access, password=SecretStr(PASSWORD)),
        )
    )
    assert sole_owner.code == "inkpass.last_owner"
    assert await snapshot(db) == before


async def test_operators_disable_and_enable_accounts(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    mallory = await new_account(bus, mailbox, "mallory")
    before = await snapshot(db)
    # A person cannot pose as the platform: only a system actor may disable accounts.
    as_user = Actor(kind=ActorKind.USER, id=mallory.user_id)
    err = await remote_error(
        bus.request(s.DISABLE_USER, DisableUserV1(user_id=alice.user_id), actor=as_user)
    )
    assert err.code == "inkpass.forbidden"
    assert await snapshot(db) == before

    operator = Actor(kind=ActorKind.SYSTEM, id="fluxos-cli")
    await bus.request(
        s.DISABLE_USER, DisableUserV1(user_id=alice.user_id, reason="abuse"), actor=operator
    )
    err = await remote_error(bus.request(s.VERIFY_TOKEN, VerifyTokenV1(token=alice.access)))
    assert err.code == "inkpass.token_revoked"
    assert (await remote_error(login(bus, alice.email))).code == "inkpass.account_disabled"
    await bus.request(s.ENABLE_USER, EnableUserV1(user_id=alice.user_id), actor=operator)
    result = await login(bus, alice.email)
    assert result.status is LoginStatus.AUTHENTICATED


async def test_registration_helper_round_trip(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    email = new_email()
    user_id = await register(bus, mailbox, email)
    assert (await tokens(bus, email)).user_id == user_id


async def test_hashes_follow_the_parameters_at_the_next_sign_in(
    start_inkpass: StartInkPass, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    first = await start_inkpass(argon2_memory_kib=256, argon2_time_cost=1)
    alice = await new_account(bus, mailbox, "alice")
    query = "select password_hash from users where id = $1"
    assert "$m=256,t=1," in await db.fetchval(query, alice.user_id)
    await first.stop()
    await start_inkpass(argon2_memory_kib=512, argon2_time_cost=2)
    await tokens(bus, alice.email)
    upgraded = await db.fetchval(query, alice.user_id)
    assert upgraded.startswith("$argon2id$")
    assert "$m=512,t=2," in upgraded
    await tokens(bus, alice.email)  # and the upgraded hash verifies
