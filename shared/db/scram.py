"""SCRAM-SHA-256 verifiers (RFC 5802/7677), computed here so a password never travels as text.

`CREATE ROLE ... PASSWORD '<plaintext>'` can end up in the server log or pg_stat_statements;
a verifier in PostgreSQL's own format is stored as-is and reveals nothing usable to log in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Final

ITERATIONS: Final = 4096
_PREFIX: Final = "SCRAM-SHA-256$"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    # SASLprep is the identity for the ASCII passwords we derive, so it is not applied.
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def scram_verifier(
    password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS
) -> str:
    salt = salt if salt is not None else os.urandom(16)
    stored_key, server_key = _keys(password, salt, iterations)
    return f"{_PREFIX}{iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def verifier_matches(verifier: str | None, password: str) -> bool:
    """Whether a stored verifier (pg_authid.rolpassword) accepts `password`."""
    if not verifier or not verifier.startswith(_PREFIX):
        return False
    try:
        params, keys = verifier[len(_PREFIX) :].split("$", 1)
        iterations_text, salt_b64 = params.split(":", 1)
        stored_b64, server_b64 = keys.split(":", 1)
        salt = base64.b64decode(salt_b64, validate=True)
        iterations = int(iterations_text)
    except ValueError:
        return False
    stored_key, server_key = _keys(password, salt, iterations)
    return hmac.compare_digest(_b64(stored_key), stored_b64) and hmac.compare_digest(
        _b64(server_key), server_b64
    )
