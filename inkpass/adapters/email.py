"""Emails go out through mimic: inkpass publishes mimic's SEND command, in its own outbox.

Templates are mimic's built-in `system.*` ones; inkpass gives the variables. One-time codes and
invitation tokens travel as variables, so the command is marked high priority (mimic refuses
rather than defers it when over a limit: a late code is a useless code).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import JsonValue

from contracts.mimic.models import Priority, RecipientV1, SendNotificationV1, TemplateRefV1
from contracts.mimic.subjects import SEND
from shared.bus import Bus, OutboundMessage


class Template(StrEnum):
    # Template names; "password" in them is a word, not a secret (hence the S105 waivers).
    VERIFY_EMAIL = "system.verify_email"
    ACCOUNT_EXISTS = "system.account_exists"
    RESET_PASSWORD = "system.reset_password"  # noqa: S105
    LOGIN_CODE = "system.login_code"
    DISABLE_TOTP_CODE = "system.disable_totp_code"
    DELETE_ACCOUNT_CODE = "system.delete_account_code"
    INVITATION = "system.invitation"
    PASSWORD_CHANGED = "system.password_changed"  # noqa: S105


def email_message(
    bus: Bus,
    *,
    template: Template,
    to: str,
    variables: dict[str, JsonValue],
    org_id: str | None,
    idempotency_key: str,
    name: str | None = None,
) -> OutboundMessage:
    payload = SendNotificationV1(
        idempotency_key=idempotency_key,
        to=RecipientV1(address=to, name=name),
        template=TemplateRefV1(key=template.value),
        variables=variables,
        priority=Priority.HIGH,
        metadata={"source": "inkpass", "template": template.value},
    )
    return bus.message(SEND, payload, org_id=org_id)
