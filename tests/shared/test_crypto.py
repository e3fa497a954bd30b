"""Encryption at rest: round trips, tampering, misplacement, key versions and rotation."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from shared.crypto import Binding, CryptoMisconfigured, Keyring, UndecryptableValue
from shared.settings import PlatformSettings

HERE = Binding(org_id="acme", table="totp_factors", row_id="u-1", column="secret")


def _keyring(**values: object) -> Keyring:
    return Keyring.from_settings(PlatformSettings(**values))  # type: ignore[arg-type]


def test_a_value_decrypts_where_it_was_sealed() -> None:
    ring = _keyring(secret_key=SecretStr("s" * 40))
    token = ring.encrypt_text("JBSWY3DPEHPK3PXP", HERE)
    assert b"JBSWY3DP" not in token
    assert ring.decrypt_text(token, HERE) == "JBSWY3DPEHPK3PXP"
    assert ring.encrypt_text("same", HERE) != ring.encrypt_text("same", HERE)  # fresh nonces


@pytest.mark.parametrize(
    "elsewhere",
    [
        Binding("globex", "totp_factors", "u-1", "secret"),
        Binding("acme", "totp_factors", "u-2", "secret"),
        Binding("acme", "totp_factors", "u-1", "backup"),
        Binding("acme", "oauth_tokens", "u-1", "secret"),
    ],
)
def test_a_value_moved_to_another_place_does_not_decrypt(elsewhere: Binding) -> None:
    ring = _keyring(secret_key=SecretStr("s" * 40))
    token = ring.encrypt(b"top secret", HERE)
    with pytest.raises(UndecryptableValue) as caught:
        ring.decrypt(token, elsewhere)
    assert caught.value.code == "crypto.undecryptable"


def test_any_flipped_bit_is_detected() -> None:
    ring = _keyring(secret_key=SecretStr("s" * 40))
    token = ring.encrypt(b"top secret", HERE)
    for i in range(3, len(token)):
        forged = bytearray(token)
        forged[i] ^= 0x01
        with pytest.raises(UndecryptableValue):
            ring.decrypt(bytes(forged), HERE)


def test_rotation_moves_values_to_the_current_key() -> None:
    old = _keyring(encryption_keys={1: SecretStr("a" * 40)})
    token = old.encrypt(b"value", HERE)
    both = _keyring(encryption_keys={1: SecretStr("a" * 40), 2: SecretStr("b" * 40)})
    assert both.current == 2
    assert both.needs_rotation(token)
    assert both.decrypt(token, HERE) == b"value"
    rotated = both.rotate(token, HERE)
    assert Keyring.version_of(rotated) == 2
    assert not both.needs_rotation(rotated)
    assert both.rotate(rotated, HERE) == rotated
    only_new = _keyring(encryption_keys={2: SecretStr("b" * 40)})
    assert only_new.decrypt(rotated, HERE) == b"value"
    with pytest.raises(UndecryptableValue, match="key version 1"):
        only_new.decrypt(token, HERE)


def test_keys_are_derived_deterministically_and_need_configuration() -> None:
    a = _keyring(secret_key=SecretStr("s" * 40))
    b = _keyring(secret_key=SecretStr("s" * 40))
    assert b.decrypt(a.encrypt(b"x", HERE), HERE) == b"x"
    with pytest.raises(CryptoMisconfigured):
        _keyring()
    with pytest.raises(CryptoMisconfigured, match="shorter"):
        _keyring(encryption_keys={1: SecretStr("short")})
    with pytest.raises(CryptoMisconfigured, match="no key"):
        _keyring(encryption_keys={1: SecretStr("a" * 40)}, encryption_key_version=3)


def test_garbage_is_not_a_ciphertext() -> None:
    ring = _keyring(secret_key=SecretStr("s" * 40))
    for junk in (b"", b"\x01\x00", b"\x09" + b"\x00" * 40):
        with pytest.raises(UndecryptableValue):
            ring.decrypt(junk, HERE)
