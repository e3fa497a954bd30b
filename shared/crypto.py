"""Encryption at rest: AES-256-GCM with versioned keys and the value's place bound in.

Every ciphertext is bound (as GCM associated data) to the organisation, table, row and column it
belongs to, so a value copied to another row, column or tenant no longer decrypts: a database
bug or a malicious UPDATE cannot move a secret from one place to another.

Stored format: ``0x01 | key version (2 bytes, big-endian) | nonce (12) | ciphertext+tag``.

Keys come from settings: ``FLUXOS_ENCRYPTION_KEYS`` (a JSON object of version -> secret, each
secret at least 32 characters; the highest version, or ``FLUXOS_ENCRYPTION_KEY_VERSION``,
encrypts) or, when unset, version 1 derived from ``FLUXOS_SECRET_KEY``. Rotation: add a new
version, make it current, and re-encrypt rows whose `key_version` is older (`Keyring.rotate`);
old versions stay until nothing uses them.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.ids import validate_token
from shared.errors import CodedPermanentError, PermanentError
from shared.kdf import derive_subkey
from shared.settings import PlatformSettings

_FORMAT = 1
_HEADER = struct.Struct(">BH")
_NONCE_BYTES = 12
_MIN_SECRET_CHARS = 32


class CryptoMisconfigured(PermanentError):
    code = "crypto.misconfigured"


class UndecryptableValue(CodedPermanentError):
    """Tampered, moved to another place, or sealed with a key this process does not have."""

    def __init__(self, message: str) -> None:
        super().__init__("crypto.undecryptable", message)


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a value lives; it decrypts only there."""

    org_id: str
    table: str
    row_id: str
    column: str

    def aad(self) -> bytes:
        validate_token(self.org_id, name="org_id")
        parts = (self.org_id, self.table, self.row_id, self.column)
        # Length-prefixed, so ("ab", "c") and ("a", "bc") can never collide.
        return b"fluxos-aad-v1" + b"".join(
            struct.pack(">H", len(p.encode())) + p.encode() for p in parts
        )


class Keyring:
    def __init__(self, keys: Mapping[int, bytes], *, current: int) -> None:
        if current not in keys:
            raise CryptoMisconfigured(f"the current key version {current} has no key")
        if any(not 0 < v < 1 << 16 for v in keys) or any(len(k) != 32 for k in keys.values()):
            raise CryptoMisconfigured("key versions are 1..65535 and keys are 32 bytes")
        self._ciphers = {version: AESGCM(key) for version, key in keys.items()}
        self.current = current

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> Keyring:
        if settings.encryption_keys:
            keys: dict[int, bytes] = {}
            for version, secret in settings.encryption_keys.items():
                value = secret.get_secret_value()
                if len(value) < _MIN_SECRET_CHARS:
                    raise CryptoMisconfigured(
                        f"encryption key version {version} is shorter than {_MIN_SECRET_CHARS}"
                    )
                keys[version] = derive_subkey(value.encode(), b"fluxos/encryption")
            current = settings.encryption_key_version or max(keys)
            return cls(keys, current=current)
        if settings.secret_key is None:
            raise CryptoMisconfigured(
                "encryption at rest needs FLUXOS_ENCRYPTION_KEYS or FLUXOS_SECRET_KEY"
            )
        root = settings.secret_key.get_secret_value().encode()
        return cls({1: derive_subkey(root, b"fluxos/encryption/v1")}, current=1)

    def encrypt(self, plaintext: bytes, binding: Binding) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, plaintext, binding.aad())
        return _HEADER.pack(_FORMAT, self.current) + nonce + sealed

    def decrypt(self, token: bytes, binding: Binding) -> bytes:
        version = self.version_of(token)
        cipher = self._ciphers.get(version)
        if cipher is None:
            raise UndecryptableValue(f"sealed with key version {version}, which is not configured")
        nonce = token[_HEADER.size : _HEADER.size + _NONCE_BYTES]
        try:
            return cipher.decrypt(nonce, token[_HEADER.size + _NONCE_BYTES :], binding.aad())
        except InvalidTag:
            raise UndecryptableValue("the value was altered or does not belong here") from None

    def encrypt_text(self, plaintext: str, binding: Binding) -> bytes:
        return self.encrypt(plaintext.encode(), binding)

    def decrypt_text(self, token: bytes, binding: Binding) -> str:
        return self.decrypt(token, binding).decode()

    @staticmethod
    def version_of(token: bytes) -> int:
        if len(token) < _HEADER.size + _NONCE_BYTES + 16:
            raise UndecryptableValue("not an encrypted value")
        fmt, version = _HEADER.unpack_from(token)
        if fmt != _FORMAT:
            raise UndecryptableValue(f"unknown format {fmt}")
        return int(version)

    def needs_rotation(self, token: bytes) -> bool:
        return self.version_of(token) != self.current

    def rotate(self, token: bytes, binding: Binding) -> bytes:
        """The same value sealed with the current key (unchanged if it already is)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, binding), binding)
