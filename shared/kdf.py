"""Subkeys derived from one secret: HKDF-SHA256 (RFC 5869), one 32-byte key per purpose.

Every key the platform needs (token signing, encryption at rest, database role passwords, URL
signing, ...) comes from a configured secret through this one function, each bound to its own
`info` string, so knowing one derived key tells nothing about another.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_subkey(secret: bytes, info: bytes, *, salt: bytes | None = None) -> bytes:
    """32 bytes for the purpose named by `info`; the same on every process given the same secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)
