"""Emails go out through mimic: inkpass publishes mimic's SEND command, in its own outbox.

Most kinds use mimic's built-in `system.*` templates, with exactly the variables each declares
(mimic refuses unknown ones); the two notices mimic has no template for are sent as content.
Every email carries its kind in the metadata mimic echoes back (`email`), so delivery events
and tests can tell them apart. Messages with codes are high priority: mimic refuses rather than
defers them when over a limit, since a late code is a useless code.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import JsonValue

from contracts.mimic.models import (
    ContentV1,
    Priority,
    RecipientV1,
    SendNotificationV1,
    TemplateRefV1,
)
from contracts.mimic.subjects import SEND
from shared.bus import Bus, OutboundMessage


class EmailKind(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a kind of email, not a secret
    SIGN_IN_CODE = "sign_in_code"
    DISABLE_TOTP_CODE = "disable_totp_code"
    DELETE_ACCOUNT_CODE = "delete_account_code"
    INVITATION = "invitation"
    ACCOUNT_EXISTS = "account_exists"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a kind of email, not a secret


TEMPLATES: dict[EmailKind, str] = {
    EmailKind.VERIFY_EMAIL: "system.verify_email",
    EmailKind.RESET_PASSWORD: "system.reset_password",
    EmailKind.SIGN_IN_CODE: "system.otp",
    EmailKind.DISABLE_TOTP_CODE: "system.otp",
    EmailKind.DELETE_ACCOUNT_CODE: "system.otp",
    EmailKind.INVITATION: "system.invitation",
}

CONTENT: dict[EmailKind, ContentV1] = {
    EmailKind.ACCOUNT_EXISTS: ContentV1(
        subject="Someone tried to sign up with your address",
        text=(
            "Someone tried to create an account with this email address, which already has "
            "one.\n\nIf it was you, sign in instead (or reset your password). If not, you can "
            "ignore this message: nothing was changed."
        ),
    ),
    EmailKind.PASSWORD_CHANGED: ContentV1(
        subject="Your password was changed",
        text=(
            "The password of your account was just changed and every session was signed out."
            "\n\nIf this was not you, reset your password now and contact your administrator."
        ),
    ),
}


def email_message(
    bus: Bus,
    *,
    kind: EmailKind,
    to: str,
    variables: dict[str, JsonValue],
    org_id: str | None,
    idempotency_key: str,
    name: str | None = None,
) -> OutboundMessage:
    template = TEMPLATES.get(kind)
    payload = SendNotificationV1(
        idempotency_key=idempotency_key,
        to=RecipientV1(address=to, name=name),
        template=TemplateRefV1(key=template) if template is not None else None,
        content=CONTENT.get(kind) if template is None else None,
        variables=variables if template is not None else {},
        priority=Priority.HIGH,
        metadata={"source": "inkpass", "email": kind.value},
    )
    return bus.message(SEND, payload, org_id=org_id)
