"""python -m inkpass.adapters.argon2_calibrate: time argon2id candidates on this machine.

Prints the median verification time of each candidate; the defaults in `InkPassSettings` were
chosen from this on the reference machine (the most memory that keeps a verification near
125 ms with one lane, since a 2-core box serves several sign-ins at once).
"""

from __future__ import annotations

import statistics
import time

from argon2 import PasswordHasher, Type

CANDIDATES = [
    (19 * 1024, 2, 1),  # OWASP minimum
    (46 * 1024, 1, 1),  # OWASP alternative
    (64 * 1024, 2, 1),
    (64 * 1024, 3, 1),
    (128 * 1024, 2, 1),
]


def measure(memory_kib: int, time_cost: int, parallelism: int, rounds: int = 7) -> float:
    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )
    stored = hasher.hash("correct horse battery staple")
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        hasher.verify(stored, "correct horse battery staple")
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    for memory_kib, time_cost, parallelism in CANDIDATES:
        ms = measure(memory_kib, time_cost, parallelism)
        print(f"m={memory_kib // 1024:4d} MiB t={time_cost} p={parallelism}: {ms:7.1f} ms")


if __name__ == "__main__":
    main()
