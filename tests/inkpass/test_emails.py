"""Every email inkpass asks for is one mimic can send: its built-in template with exactly the
variables that template declares (mimic refuses anything else), or plain content."""

from __future__ import annotations

from pydantic import SecretStr

from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    ChangePasswordV1,
    InviteMemberV1,
    RegisterUserV1,
    RequestOtpV1,
)
from contracts.inkpass.types import OtpPurpose, Role
from contracts.mimic.models import Priority
from mimic.domain.system_templates import SPECS
from mimic.domain.templates import validate_variables, variables_model
from shared.bus import Bus
from shared.service import ServiceApp
from tests.inkpass.conftest import PASSWORD, Mailbox, new_account, new_email
from tests.shared.bus.conftest import eventually


async def test_every_email_fits_a_mimic_template_or_is_plain_content(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    for purpose in OtpPurpose:
        await bus.request(s.REQUEST_OTP, RequestOtpV1(email=alice.email, purpose=purpose))
    await bus.request(
        s.INVITE_MEMBER,
        InviteMemberV1(access_token=alice.access, email=new_email("bob"), role=Role.VIEWER),
    )
    await bus.request(
        s.REGISTER, RegisterUserV1(email=alice.email, password=SecretStr("someone else's try"))
    )
    await bus.request(
        s.CHANGE_PASSWORD,
        ChangePasswordV1(
            access_token=alice.access,
            current_password=SecretStr(PASSWORD),
            new_password=SecretStr("a brand new passphrase"),
        ),
    )
    kinds = {
        "verify_email",
        "reset_password",
        "sign_in_code",
        "disable_totp_code",
        "delete_account_code",
        "invitation",
        "account_exists",
        "password_changed",
    }

    async def all_sent() -> bool:
        return kinds <= {m.metadata.get("email") for _, m in mailbox.sent}

    await eventually(all_sent, timeout=5)
    specs = {spec.key: spec for spec in SPECS}
    for org_id, mail in mailbox.sent:
        assert org_id is not None, mail.metadata  # mimic accounts every email to an org
        assert mail.priority is Priority.HIGH
        if mail.template is None:
            assert mail.content is not None
            assert mail.content.text
            continue
        spec = specs[mail.template.key]
        validate_variables(
            variables_model(spec.key, spec.variables), spec.variables, mail.variables
        )
