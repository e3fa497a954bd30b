"""Field types of inkpass's messages: ids, secrets, emails, roles, attribute values.

Secrets (passwords, tokens, codes, keys) are `SecretStr`: their `repr` and `str` are masked, so a
model that reaches a log line shows `**********`, while the JSON on the wire carries the value.
Every string that comes from outside is bounded, so no field can make a handler hash, store or
compare an arbitrarily long value.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Final

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    SecretStr,
    StringConstraints,
)

from contracts.ids import SubjectToken

UserId = SubjectToken
SessionId = SubjectToken
ApiKeyId = SubjectToken
PolicyId = SubjectToken
InvitationId = SubjectToken

PLATFORM_SCOPE: Final = "platform"
"""Binding scope of person-level secrets that belong to no organisation (never an org id)."""

MAX_PASSWORD_CHARS: Final = 256
MIN_PASSWORD_CHARS: Final = 10
MAX_TOKEN_CHARS: Final = 4096


def _reveal(value: SecretStr) -> str:
    return value.get_secret_value()


_ON_THE_WIRE = PlainSerializer(_reveal, return_type=str, when_used="json")

Secret = Annotated[SecretStr, Field(max_length=MAX_TOKEN_CHARS), _ON_THE_WIRE]
"""A secret value sent in the clear inside the (trusted) bus but masked everywhere else."""

SecretDocument = Annotated[SecretStr, Field(max_length=200_000), _ON_THE_WIRE]
"""A larger secret value (a QR code of an enrolment secret); only inkpass produces these."""

Password = Annotated[SecretStr, Field(min_length=1, max_length=MAX_PASSWORD_CHARS), _ON_THE_WIRE]
"""A password presented for checking. Bounded so hashing cannot be turned into a DoS."""

NewPassword = Annotated[
    SecretStr,
    Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS),
    _ON_THE_WIRE,
]
"""A password being set: at least 10 characters (further rules are the service's)."""

BearerToken = Annotated[SecretStr, Field(min_length=1, max_length=MAX_TOKEN_CHARS), _ON_THE_WIRE]


def _digits(length: int) -> AfterValidator:
    pattern = re.compile(rf"^[0-9]{{{length}}}$")

    def check(value: SecretStr) -> SecretStr:
        if not pattern.fullmatch(value.get_secret_value()):
            raise ValueError(f"must be {length} digits")
        return value

    return AfterValidator(check)


OtpCode = Annotated[SecretStr, _digits(6), _ON_THE_WIRE]
"""A one-time password from an email: six digits."""

TotpCode = Annotated[SecretStr, _digits(6), _ON_THE_WIRE]


def _backup_code(value: SecretStr) -> SecretStr:
    text = value.get_secret_value()
    if not re.fullmatch(r"[A-Za-z0-9-]{8,24}", text):
        raise ValueError("not a backup code")
    return value


BackupCode = Annotated[SecretStr, AfterValidator(_backup_code), _ON_THE_WIRE]

# Deliberately simpler than RFC 5322: one @, a bounded local part without spaces or control
# characters, and a dotted domain of LDH labels. Lower-cased so lookups are case-insensitive.
EMAIL_PATTERN: Final = (
    r"^[^@\s\x00-\x1f\x7f]{1,64}@"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def _normalise_email(value: object) -> object:
    # Before the pattern is checked, so "Ada@Example.COM" is accepted as "ada@example.com".
    return value.strip().lower() if isinstance(value, str) else value


Email = Annotated[
    str,
    BeforeValidator(_normalise_email),
    StringConstraints(max_length=254, pattern=EMAIL_PATTERN),
]

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
OrgName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

SourceIp = Annotated[str, StringConstraints(max_length=45, pattern=r"^[0-9A-Fa-f:.]{2,45}$")]
"""The client's address as the edge (inbox) saw it; checked to parse as an IP by the service."""

UserAgent = Annotated[str, StringConstraints(max_length=256)]

ACTION_PATTERN: Final = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,4}$"
Action = Annotated[str, StringConstraints(pattern=ACTION_PATTERN)]
"""What an actor wants to do: `<service>.<noun>.<verb>`, e.g. `den.file.read`."""

ACTION_GLOB: Final = r"^(\*|[a-z][a-z0-9_]*)(\.(\*|[a-z][a-z0-9_]*)){0,4}$"
ActionGlob = Annotated[str, StringConstraints(pattern=ACTION_GLOB)]
"""An action pattern: `*` is one segment, a trailing `*` the rest (`den.*`, `*.*.read`, `*`)."""

ResourceType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ResourceTypeGlob = Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9_]{0,63})$")]

ATTRIBUTE_KEY: Final = r"^[a-z][a-z0-9_]{0,63}$"
AttributeKey = Annotated[str, StringConstraints(pattern=ATTRIBUTE_KEY)]
ShortText = Annotated[str, StringConstraints(max_length=256)]
AttributeValue = bool | int | float | ShortText | list[ShortText]
"""A value an ABAC condition can compare: a scalar or a short list of strings."""

AttributeMap = Annotated[dict[AttributeKey, AttributeValue], Field(max_length=50)]


class Role(StrEnum):
    """Built-in roles, most powerful first."""

    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    VIEWER = "viewer"


class OtpPurpose(StrEnum):
    """What a one-time password may be used for; it is useless for anything else."""

    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    LOGIN = "login"
    DISABLE_TOTP = "disable_totp"
    DELETE_ACCOUNT = "delete_account"


class TokenKind(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    MFA = "mfa"


def _known_zone(value: str) -> str:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(value)
    except (ValueError, LookupError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError("unknown IANA time zone") from None
    return value


TimeZone = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone)
]
"""An IANA time zone name (e.g. 'Europe/Paris'), checked against the zone database."""
