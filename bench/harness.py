"""What every benchmark shares: its own real servers, percentiles, the JSON last line."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.runtime.nats_server import NatsServer


@contextmanager
def nats_server() -> Iterator[NatsServer]:
    with tempfile.TemporaryDirectory(prefix="fluxos-bench-") as tmp:
        server = NatsServer(store_dir=Path(tmp) / "nats", name="bench")
        server.start()
        try:
            yield server
        finally:
            server.stop()


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
