"""The built-in templates every organisation can use: `system.<name>`, version 1.

InkPass sends the first four (verification, reset, OTP, invitation); Tentacle the last two. They
are code, not rows: the same for every organisation, reviewed like code, never edited at runtime.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from contracts.mimic.models import VariableSpecV1, VariableType
from mimic.domain.templates import CompiledTemplate, TemplateSpec, compile_template

PREFIX: Final = "system."

_S = VariableSpecV1
_URL = VariableSpecV1(type=VariableType.URL, max_length=2_000)
_NAME = VariableSpecV1(required=False, max_length=200, description="The recipient's name.")
_PRODUCT = VariableSpecV1(required=False, max_length=100, description="Defaults to fluxos.")

_FOOTER_TEXT = "\n-- \n{{ product_name or 'fluxos' }}\n"
_FOOTER_HTML = '<p style="color:#888;font-size:12px">{{ product_name or "fluxos" }}</p>'


def _spec(
    name: str,
    *,
    subject: str,
    text: str,
    html: str,
    variables: dict[str, VariableSpecV1],
    description: str,
) -> TemplateSpec:
    return TemplateSpec(
        key=PREFIX + name,
        version=1,
        subject=subject,
        text=text + _FOOTER_TEXT,
        html=f"<!doctype html><html><body>{html}{_FOOTER_HTML}</body></html>",
        variables=MappingProxyType({**variables, "product_name": _PRODUCT}),
        description=description,
        system=True,
    )


SPECS: Final = (
    _spec(
        "verify_email",
        subject="Verify your email address",
        text=(
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "{% if code %}Your verification code is {{ code }}.\n{% endif %}"
            "{% if verify_url %}Confirm your address by opening this link:\n{{ verify_url }}\n"
            "{% endif %}\nIf you did not sign up, ignore this message."
        ),
        html=(
            "<p>Hello{% if name %} {{ name }}{% endif %},</p>"
            "{% if code %}<p>Your verification code is <strong>{{ code }}</strong>.</p>"
            "{% endif %}"
            '{% if verify_url %}<p><a href="{{ verify_url }}">Verify my email</a></p>{% endif %}'
            "<p>If you did not sign up, ignore this message.</p>"
        ),
        variables={
            "name": _NAME,
            "code": _S(required=False, max_length=12, description="A code to type in."),
            "verify_url": VariableSpecV1(type=VariableType.URL, required=False, max_length=2_000),
        },
        description="Sent by InkPass on sign-up or a change of address: a code, a link, or both.",
    ),
    _spec(
        "reset_password",
        subject="Reset your password",
        text=(
            "Hello{% if name %} {{ name }}{% endif %},\n\n"
            "Someone asked to reset your password.\n"
            "{% if code %}Your reset code is {{ code }}.\n{% endif %}"
            "{% if reset_url %}To choose a new one, open:\n{{ reset_url }}\n{% endif %}"
            "{% if expires_in_minutes %}\nIt expires in {{ expires_in_minutes }} minutes.\n"
            "{% endif %}\nIf it was not you, ignore this message; your password is unchanged."
        ),
        html=(
            "<p>Hello{% if name %} {{ name }}{% endif %},</p>"
            "<p>Someone asked to reset your password.</p>"
            "{% if code %}<p>Your reset code is <strong>{{ code }}</strong>.</p>{% endif %}"
            '{% if reset_url %}<p><a href="{{ reset_url }}">Choose a new password</a></p>'
            "{% endif %}"
            "{% if expires_in_minutes %}<p>It expires in {{ expires_in_minutes }} "
            "minutes.</p>{% endif %}"
            "<p>If it was not you, ignore this message; your password is unchanged.</p>"
        ),
        variables={
            "name": _NAME,
            "code": _S(required=False, max_length=12),
            "reset_url": VariableSpecV1(type=VariableType.URL, required=False, max_length=2_000),
            "expires_in_minutes": VariableSpecV1(type=VariableType.INTEGER, required=False),
        },
        description="Sent by InkPass for a password reset request: a code, a link, or both.",
    ),
    _spec(
        "otp",
        subject="Your verification code: {{ code }}",
        text=(
            "Your {% if purpose %}{{ purpose }} {% endif %}code is {{ code }}.\n"
            "{% if expires_in_minutes %}It expires in {{ expires_in_minutes }} minutes.\n"
            "{% endif %}Never share it with anyone."
        ),
        html=(
            "<p>Your {% if purpose %}{{ purpose }} {% endif %}code is</p>"
            '<p style="font-size:24px;letter-spacing:4px"><strong>{{ code }}</strong></p>'
            "{% if expires_in_minutes %}<p>It expires in {{ expires_in_minutes }} minutes."
            "</p>{% endif %}<p>Never share it with anyone.</p>"
        ),
        variables={
            "code": _S(max_length=12),
            "purpose": _S(required=False, max_length=60),
            "expires_in_minutes": VariableSpecV1(type=VariableType.INTEGER, required=False),
        },
        description="A one-time password (login, 2FA, confirmation).",
    ),
    _spec(
        "invitation",
        subject="{{ inviter_name }} invited you to {{ org_name }}",
        text=(
            "{{ inviter_name }} invited you to join {{ org_name }}.\n\n"
            "Accept the invitation:\n{{ accept_url }}"
        ),
        html=(
            "<p>{{ inviter_name }} invited you to join <strong>{{ org_name }}</strong>.</p>"
            '<p><a href="{{ accept_url }}">Accept the invitation</a></p>'
        ),
        variables={
            "inviter_name": _S(max_length=200),
            "org_name": _S(max_length=200),
            "accept_url": _URL,
        },
        description="Sent by InkPass when a member invites someone to an organisation.",
    ),
    _spec(
        "checkpoint_awaiting_approval",
        subject="Approval needed: {{ step_title }}",
        text=(
            'The task "{{ task_title }}" is waiting for your approval before it runs '
            '"{{ step_title }}".\n{% if reason %}\nWhy: {{ reason }}\n{% endif %}\n'
            "Review it here:\n{{ approve_url }}"
        ),
        html=(
            "<p>The task <strong>{{ task_title }}</strong> is waiting for your approval before "
            "it runs <strong>{{ step_title }}</strong>.</p>"
            "{% if reason %}<p>Why: {{ reason }}</p>{% endif %}"
            '<p><a href="{{ approve_url }}">Review and decide</a></p>'
        ),
        variables={
            "task_title": _S(max_length=300),
            "step_title": _S(max_length=300),
            "approve_url": _URL,
            "reason": _S(required=False, max_length=2_000),
        },
        description="Sent by Tentacle when a risky step stops for a human decision.",
    ),
    _spec(
        "task_finished",
        subject="Task {{ outcome }}: {{ task_title }}",
        text=(
            'Your task "{{ task_title }}" {{ outcome }}.\n'
            "{% if summary %}\n{{ summary }}\n{% endif %}"
            "{% if task_url %}\nDetails: {{ task_url }}\n{% endif %}"
        ),
        html=(
            "<p>Your task <strong>{{ task_title }}</strong> {{ outcome }}.</p>"
            "{% if summary %}<p>{{ summary }}</p>{% endif %}"
            '{% if task_url %}<p><a href="{{ task_url }}">See the details</a></p>{% endif %}'
        ),
        variables={
            "task_title": _S(max_length=300),
            "outcome": _S(max_length=40, description="e.g. completed, failed, was cancelled"),
            "summary": _S(required=False, max_length=5_000),
            "task_url": VariableSpecV1(type=VariableType.URL, required=False, max_length=2_000),
        },
        description="Sent by Tentacle when a task reaches a terminal state.",
    ),
)

COMPILED: Final[dict[str, CompiledTemplate]] = {spec.key: compile_template(spec) for spec in SPECS}


def is_system_key(key: str) -> bool:
    return key.startswith(PREFIX)
