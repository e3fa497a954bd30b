"""Addresses and header values: what may reach an email header.

A header value with a line break would let a variable add headers (Bcc: ...) or a body of its
own; it is refused outright, never "cleaned", so nothing a caller did not mean is sent.
"""

from __future__ import annotations

import re
from typing import Final

from contracts.mimic.errors import MimicErrorCode
from mimic.domain.errors import MimicError

# C0 controls, DEL, and the Unicode line separators some mail clients honour.
_FORBIDDEN: Final = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")

_LOCAL: Final = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL: Final = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TLD: Final = re.compile(r"^([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")


def check_header_value(value: str, *, field: str) -> str:
    if _FORBIDDEN.search(value):
        raise MimicError(
            MimicErrorCode.HEADER_INJECTION,
            f"{field} holds a line break or control character; headers must be one line",
        )
    return value


def check_email(address: str, *, field: str = "recipient") -> str:
    """`address` if it is a plain addr-spec (local@domain.tld) that every provider accepts."""
    check_header_value(address, field=field)
    local, at, domain = address.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or len(address) > 254
        or not 1 <= len(local) <= 64
        or not _LOCAL.fullmatch(local)
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not _TLD.fullmatch(labels[-1])
    ):
        raise MimicError(MimicErrorCode.INVALID_RECIPIENT, f"{field} is not an email address")
    return address
