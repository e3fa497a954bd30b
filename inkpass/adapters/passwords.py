"""argon2id password hashing (argon2-cffi), off the event loop and bounded in concurrency.

Parameters come from settings (see `InkPassSettings` for how the defaults were measured).
Checking a password for an unknown account verifies against a dummy hash made with the same
parameters, so "no such account" costs the same time as "wrong password".
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher as Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class Argon2Params:
    memory_kib: int
    time_cost: int
    parallelism: int


@dataclass(frozen=True)
class Verified:
    ok: bool
    needs_rehash: bool = False


class PasswordHasher:
    def __init__(self, params: Argon2Params, *, max_concurrency: int) -> None:
        self._argon2 = Argon2(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        # Each hash holds memory_kib of RAM while it runs: bound how many run at once.
        self._slots = asyncio.Semaphore(max_concurrency)
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, stored: str | None, password: str) -> Verified:
        """Check `password` against `stored`; with no stored hash, spend the same time failing."""
        if stored is None:
            await self._verify(await self._dummy_hash(), password)
            return Verified(False)
        if not await self._verify(stored, password):
            return Verified(False)
        return Verified(True, needs_rehash=self._argon2.check_needs_rehash(stored))

    async def _verify(self, stored: str, password: str) -> bool:
        async with self._slots:
            try:
                return await asyncio.to_thread(self._argon2.verify, stored, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(24))
        return self._dummy

    async def warm_up(self) -> None:
        """Make the dummy hash now, so the first unknown-account sign-in is not slower."""
        await self._dummy_hash()
