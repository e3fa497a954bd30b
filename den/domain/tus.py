"""tus 1.0 headers (core, creation, checksum, termination, expiration), parsed strictly."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

from contracts.den.errors import DenErrorCode
from contracts.den.http import TUS_VERSION
from den.domain.errors import DenError

EXTENSIONS: Final = "creation,creation-with-upload,checksum,termination,expiration"
CHECKSUM_ALGORITHMS: Final = ("sha256",)
OFFSET_CONTENT_TYPE: Final = "application/offset+octet-stream"

_INT = re.compile(r"[0-9]{1,19}")
_KEY = re.compile(r"[!-+\--~]+")  # visible ASCII except ',' (and space)
_MAX_METADATA_CHARS: Final = 4096


def _bad(message: str) -> DenError:
    return DenError(DenErrorCode.BAD_REQUEST, message)


def parse_int(value: str | None, header: str) -> int | None:
    if value is None:
        return None
    if not _INT.fullmatch(value.strip()):
        raise _bad(f"{header} must be a non-negative integer")
    return int(value)


def check_version(value: str | None) -> None:
    if value != TUS_VERSION:
        raise DenError(
            DenErrorCode.UNSUPPORTED_VERSION,
            f"Tus-Resumable must be {TUS_VERSION}",
            details={"supported": TUS_VERSION},
        )


def parse_metadata(value: str | None) -> dict[str, str]:
    """Upload-Metadata: `key base64,key base64,...`; values decoded as UTF-8 text."""
    if not value:
        return {}
    if len(value) > _MAX_METADATA_CHARS:
        raise _bad("Upload-Metadata is too long")
    out: dict[str, str] = {}
    for pair in value.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not _KEY.fullmatch(key) or key in out:
            raise _bad("Upload-Metadata keys are unique visible ASCII without commas")
        try:
            out[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _bad(f"Upload-Metadata value of {key!r} is not base64 UTF-8") from None
    return out


@dataclass(frozen=True, slots=True)
class Checksum:
    algorithm: str
    digest: bytes


def parse_checksum(value: str | None) -> Checksum | None:
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm.lower() not in CHECKSUM_ALGORITHMS:
        raise DenError(
            DenErrorCode.UNSUPPORTED_CHECKSUM,
            f"checksum algorithm {algorithm[:20]!r} is not supported; use sha256",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _bad("Upload-Checksum is not base64") from None
    if len(digest) != 32:
        raise _bad("a sha256 Upload-Checksum is 32 bytes")
    return Checksum("sha256", digest)
