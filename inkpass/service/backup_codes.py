"""Making a fresh set of single-use backup codes (only their HMACs are stored)."""

from __future__ import annotations

import secrets
from typing import Final

from inkpass.adapters import factors
from inkpass.service.deps import Deps
from inkpass.service.second_factor import backup_code_hash
from inkpass.service.tx import Tx

COUNT: Final = 10
_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand


def _code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))  # 50 bits each
    return f"{raw[:5]}-{raw[5:]}"


async def replace_codes(tx: Tx, deps: Deps, user_id: str) -> list[str]:
    codes = [_code() for _ in range(COUNT)]
    hashes = [backup_code_hash(deps, user_id, c) for c in codes]
    await factors.replace_backup_codes(tx.session, user_id, hashes)
    return codes
