"""What every benchmark shares: its own real servers, percentiles, the JSON last line."""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.runtime.nats_server import NatsServer
from shared.runtime.postgres_server import PostgresServer


@contextmanager
def nats_server() -> Iterator[NatsServer]:
    with tempfile.TemporaryDirectory(prefix="fluxos-bench-") as tmp:
        server = NatsServer(store_dir=Path(tmp) / "nats", name="bench")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def postgres_server(*, fsync: bool = True) -> Iterator[PostgresServer]:
    """A PostgreSQL of the benchmark's own; durable commits (fsync on) unless told otherwise."""
    base = Path(tempfile.mkdtemp(prefix="fluxos-bench-pg-"))
    base.chmod(0o711)  # PostgreSQL may run as an unprivileged user that must reach it
    server = PostgresServer(base_dir=base / "postgres", fsync=fsync)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(samples_ms), 4),
        "p99": round(percentile(samples_ms, 99), 4),
    }


def report(result: dict[str, Any]) -> None:
    """Human lines on stderr; the machine-readable JSON object is the last line of stdout."""
    for key, value in result.items():
        print(f"{key:>28}: {value}", file=sys.stderr)
    print(json.dumps(result, sort_keys=True))
