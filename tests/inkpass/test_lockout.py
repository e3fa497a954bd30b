"""Brute force: locks per account and source, races, short victim lockouts, no enumeration."""

from __future__ import annotations

import asyncio
import statistics
import time

from contracts.inkpass.models import LoginStatus
from shared.bus import Bus, RemoteError
from shared.service import ServiceApp
from tests.inkpass.conftest import (
    PASSWORD,
    Db,
    Mailbox,
    StartInkPass,
    login,
    new_account,
    new_email,
    register,
    remote_error,
    snapshot,
)
from tests.shared.bus.conftest import eventually


async def test_wrong_passwords_lock_the_account_for_that_source(
    start_inkpass: StartInkPass, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    await start_inkpass(lock_base_s=0.5, lock_max_s=2)
    alice = await new_account(bus, mailbox, "alice")
    attacker = {"source_ip": "203.0.113.9"}
    for _ in range(5):
        err = await remote_error(login(bus, alice.email, "wrong password!", **attacker))
        assert err.code == "inkpass.invalid_credentials"
    locked = await remote_error(login(bus, alice.email, PASSWORD, **attacker))
    assert locked.code == "inkpass.too_many_attempts"
    assert locked.error.details is not None
    assert locked.error.details["retry_after_s"] >= 1
    lockouts = await db.fetch(
        "select details from account_audit_log where kind = 'locked_out' and source_ip = $1",
        "203.0.113.9",
    )
    assert len(lockouts) == 1  # recorded once, when the lock was placed
    # The owner, from their own address, is not locked out by the attacker.
    result = await login(bus, alice.email, PASSWORD, source_ip="198.51.100.7")
    assert result.status is LoginStatus.AUTHENTICATED

    async def unlocked() -> bool:
        try:
            await login(bus, alice.email, PASSWORD, **attacker)
        except RemoteError as exc:
            if exc.code != "inkpass.too_many_attempts":
                raise
            return False
        return True

    # The lock is short (victims never wait long), then the right password works again.
    await eventually(unlocked, timeout=10)


async def test_parallel_guesses_cannot_slip_past_the_counter(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    guesses = [
        login(bus, alice.email, f"guess number {i}", source_ip="203.0.113.10") for i in range(25)
    ]
    results = await asyncio.gather(*guesses, return_exceptions=True)
    codes = [r.code for r in results if isinstance(r, RemoteError)]
    assert len(codes) == 25
    # Exactly the allowance was checked; every other guess was refused unchecked.
    assert codes.count("inkpass.invalid_credentials") == 5
    assert codes.count("inkpass.too_many_attempts") == 20


async def test_a_distributed_attack_hits_the_per_account_limit(
    start_inkpass: StartInkPass, bus: Bus, mailbox: Mailbox
) -> None:
    await start_inkpass(login_attempts_per_account=8)
    alice = await new_account(bus, mailbox, "alice")
    for i in range(8):
        await remote_error(login(bus, alice.email, "wrong password!", source_ip=f"203.0.113.{i}"))
    err = await remote_error(login(bus, alice.email, "wrong password!", source_ip="203.0.113.99"))
    assert err.code == "inkpass.too_many_attempts"


async def test_unknown_accounts_and_wrong_passwords_answer_alike(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    before = await snapshot(db)
    unknown = await remote_error(login(bus, new_email("nobody"), "wrong password!"))
    wrong = await remote_error(login(bus, alice.email, "wrong password!"))
    assert (unknown.code, unknown.error.message) == (wrong.code, wrong.error.message)
    assert unknown.code == "inkpass.invalid_credentials"
    # And they lock alike: an unknown address is counted exactly like a real one.
    ghost = new_email("ghost")
    for _ in range(5):
        await remote_error(login(bus, ghost, "wrong password!"))
    assert (await remote_error(login(bus, ghost, "x"))).code == "inkpass.too_many_attempts"
    assert await snapshot(db) == before


async def test_unknown_accounts_take_as_long_as_wrong_passwords(
    start_inkpass: StartInkPass, bus: Bus, mailbox: Mailbox
) -> None:
    # Costlier than the other tests' hashing, so that skipping it would show even on a busy
    # machine (without the dummy hash the ratio below falls to about 0.2).
    await start_inkpass(argon2_memory_kib=32 * 1024, argon2_time_cost=2)
    known = []
    for i in range(12):
        email = new_email(f"known{i}")
        await register(bus, mailbox, email)
        known.append(email)

    async def timed(email: str) -> float:
        started = time.perf_counter()
        await remote_error(login(bus, email, "wrong password!"))
        return time.perf_counter() - started

    wrong, unknown = [], []
    for email in known:  # interleaved, so drift of the machine affects both alike
        wrong.append(await timed(email))
        unknown.append(await timed(new_email("nobody")))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    # Generous margins: only a missing hash (a ratio far below 1) or a gross difference fails.
    assert 0.5 < ratio < 2.0, (ratio, statistics.median(wrong))
