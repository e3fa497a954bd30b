"""API key format: recognisable, self-checking, naming its organisation, stored only hashed.

    fxk_ <43 chars: 256 random bits> <22 chars: org uuid> <6 chars: CRC-32>      (base62)

* The `fxk_` prefix lets secret scanners and people recognise a leaked key.
* The checksum rejects typos and random guesses without touching the database.
* The organisation part lets the lookup run under that organisation's row-level security, so a
  key whose org part was altered matches nothing (its hash is another org's business anyway).
* Only SHA-256 of the whole key is stored: the key has 256 bits of entropy, so a slow hash
  would add nothing but latency.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
import zlib
from dataclasses import dataclass
from typing import Final

PREFIX: Final = "fxk_"
_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX: Final = {c: i for i, c in enumerate(_ALPHABET)}
_SECRET_CHARS: Final = 43  # ceil(256 / log2(62))
_ORG_CHARS: Final = 22  # ceil(128 / log2(62))
_CHECK_CHARS: Final = 6  # ceil(32 / log2(62))
LENGTH: Final = len(PREFIX) + _SECRET_CHARS + _ORG_CHARS + _CHECK_CHARS
DISPLAY_CHARS: Final = len(PREFIX) + 8


def _encode(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        out.append(_ALPHABET[digit])
    if value:
        raise ValueError("value too large for its width")
    return "".join(reversed(out))


def _decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 62 + _INDEX[char]
    return value


def _checksum(body: str) -> str:
    return _encode(zlib.crc32(body.encode()), _CHECK_CHARS)


def new_key(org_id: str) -> str:
    """A fresh key for an organisation whose id is a UUID (inkpass makes them so)."""
    org = uuid.UUID(org_id).int
    body = PREFIX + _encode(secrets.randbits(256), _SECRET_CHARS) + _encode(org, _ORG_CHARS)
    return body + _checksum(body)


@dataclass(frozen=True)
class ParsedKey:
    org_id: str
    key_hash: bytes
    display: str


def parse(key: str) -> ParsedKey | None:
    """The key's org and hash if it is well formed and its checksum holds, else None."""
    if len(key) != LENGTH or not key.startswith(PREFIX):
        return None
    rest = key[len(PREFIX) :]
    if any(c not in _INDEX for c in rest):
        return None
    body, check = key[:-_CHECK_CHARS], key[-_CHECK_CHARS:]
    if not secrets.compare_digest(_checksum(body), check):
        return None
    org_part = rest[_SECRET_CHARS : _SECRET_CHARS + _ORG_CHARS]
    org_int = _decode(org_part)
    if org_int >= 1 << 128:
        return None
    return ParsedKey(str(uuid.UUID(int=org_int)), hash_key(key), key[:DISPLAY_CHARS])


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
