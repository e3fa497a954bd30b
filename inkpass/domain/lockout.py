"""Brute-force protection: how many attempts a key gets, and how long it waits after that.

A counter is kept per key (an account, a source address, an account from one source, a second
factor, ...). Every attempt is *reserved* before the expensive or secret check runs, under a
row lock in PostgreSQL, so a burst of parallel attempts is counted one by one: the attempt that
reaches the limit locks the key for everyone behind it, and later attempts are refused without
being checked. Locks grow exponentially while attempts keep failing and are capped, so a victim
whose account is attacked waits at most `max_lock` (minutes, not days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    attempts: int
    """Attempts allowed per window before the key locks."""
    window: timedelta
    base_lock: timedelta
    max_lock: timedelta

    def lock_for(self, over: int) -> timedelta:
        """The lock after the `over`-th attempt beyond the limit (0 = the one reaching it)."""
        seconds = self.base_lock.total_seconds() * (2 ** min(over, 30))
        return timedelta(seconds=min(seconds, self.max_lock.total_seconds()))


@dataclass(frozen=True)
class Counter:
    attempts: int
    window_started_at: datetime
    locked_until: datetime | None


@dataclass(frozen=True)
class Reservation:
    allowed: bool
    counter: Counter
    retry_after_s: int = 0
    locked_now: bool = False
    """This attempt is the one that locked the key (worth an audit record)."""


def reserve(counter: Counter | None, limit: Limit, now: datetime) -> Reservation:
    if counter is not None and counter.locked_until is not None and counter.locked_until > now:
        wait = int((counter.locked_until - now).total_seconds()) + 1
        return Reservation(False, counter, retry_after_s=wait)
    if counter is None or _quiet(counter, now) > limit.window:
        counter = Counter(0, now, None)
    attempts = counter.attempts + 1
    locked_until = counter.locked_until
    locked_now = False
    if attempts >= limit.attempts:
        # Lock the door behind this attempt: if it succeeds the lock is lifted, if not the next
        # one waits. Past the limit, one attempt per lock period and each lock longer.
        locked_until = now + limit.lock_for(attempts - limit.attempts)
        locked_now = True
    return Reservation(
        True, Counter(attempts, counter.window_started_at, locked_until), locked_now=locked_now
    )


def _quiet(counter: Counter, now: datetime) -> timedelta:
    """How long the key has been left alone: since its window began or its last lock ended."""
    last = counter.window_started_at
    if counter.locked_until is not None:
        last = max(last, counter.locked_until)
    return now - last
