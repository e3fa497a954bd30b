"""Den's throughput and memory: 1 GiB up and down through HTTP against raw Object Store calls.

In one run, on one real nats-server and one PostgreSQL:

* raw: nats-py's own `ObjectStore.put` (from a reader producing the bytes) and `get` (into a
  sink), the floor a client of the bucket gets with the library as shipped, same chunk size
  (`raw_*`, the ratios' denominators); and the fastest plain nats-py goes on the same layout
  (`raw_pipelined_*`: a window of `publish_async`, batched direct gets) for a harsher view;
* den: `python -m den` in its own process, as it runs in production; the bench asks it over
  the bus for an upload URL, PUTs 1 GiB (streamed from a generator, never in memory here
  either), asks for a signed link, GETs the 1 GiB back (counting bytes), checks size and
  SHA-256 against what it sent, and purges the file.

Rounds of raw and den alternate, so a machine busy with something else slows both alike; the
figures are the medians over the rounds. The den process's resident memory is sampled with
psutil every 20 ms throughout: its peak over all rounds is `peak_rss_mib`. Everything lives in
a temporary directory that is removed at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from pydantic import SecretStr

from bench import files_raw as raw
from bench.files_raw import BLOCK, pieces
from bench.harness import report
from contracts.den import HEALTH
from contracts.den import subjects as den_subjects
from contracts.den.models import AuthorizeUploadV1, CreateLinkV1, GetFileV1, PurgeFileV1
from contracts.envelope import Actor, ActorKind
from contracts.platform.health import HealthCheckV1, HealthStatus
from shared.bus import Bus, BusTimeout, BusUnavailable
from shared.runtime.nats_server import NatsServer
from shared.runtime.postgres_server import PostgresServer
from shared.runtime.process import free_port, spawn, stop, tail
from shared.settings import PlatformSettings

MIB = 1024 * 1024
SIZE = 1024 * MIB
CHUNK = 256 * 1024
ROUNDS = 3
ORG = "bench-org"
ACTOR = Actor(kind=ActorKind.USER, id="bench-user")


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def servers(base: Path) -> Iterator[tuple[NatsServer, PostgresServer]]:
    # Room for the 1 GiB copies beyond the streams' reservations (a cap, not an allocation).
    nats_server = NatsServer(store_dir=base / "nats", name="bench-files", max_file_store="64G")
    base.chmod(0o711)
    postgres = PostgresServer(base_dir=base / "postgres", fsync=False)
    nats_server.start()
    try:
        postgres.start()
        try:
            yield nats_server, postgres
        finally:
            postgres.stop()
    finally:
        nats_server.stop()


async def _wait_healthy(bus: Bus, proc: Any, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"den exited early:\n{tail(log)}")
        try:
            health = await bus.request(HEALTH, HealthCheckV1(), timeout=1)
            if health.status is HealthStatus.OK:
                return
        except (BusUnavailable, BusTimeout):  # not up yet, or too busy to answer in time
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"den not healthy:\n{tail(log)}")
        await asyncio.sleep(0.2)


async def _upload_body(block: bytes) -> AsyncIterator[bytes]:
    for piece in pieces(block, SIZE):
        yield piece


@dataclass
class Den:
    """`python -m den` and a client of it: the bus for metadata, HTTP for bytes."""

    bus: Bus
    http: httpx.AsyncClient
    pid: int
    expected_sha256: str
    uploads_s: list[float] = field(default_factory=list)
    downloads_s: list[float] = field(default_factory=list)

    async def round(self, block: bytes) -> None:
        auth = await self.bus.request(
            den_subjects.UPLOAD_AUTHORIZE,
            AuthorizeUploadV1(name="big.bin"),
            org_id=ORG,
            actor=ACTOR,
            timeout=10,
        )
        started = time.perf_counter()
        response = await self.http.put(
            auth.put_url, content=_upload_body(block), headers={"Content-Length": str(SIZE)}
        )
        self.uploads_s.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise RuntimeError(f"upload failed: {response.status_code} {response.text}")
        file_id = response.json()["file_id"]
        link = await self.bus.request(
            den_subjects.LINK_CREATE, CreateLinkV1(file_id=file_id), org_id=ORG, actor=ACTOR
        )
        received = 0
        started = time.perf_counter()
        async with self.http.stream("GET", link.url) as download:
            async for piece in download.aiter_raw():
                received += len(piece)
        self.downloads_s.append(time.perf_counter() - started)
        file = await self.bus.request(
            den_subjects.FILE_GET, GetFileV1(file_id=file_id), org_id=ORG, actor=ACTOR
        )
        if received != SIZE or file.size != SIZE or file.sha256 != self.expected_sha256:
            raise RuntimeError("den returned other bytes than it was given")
        await self.bus.request(
            den_subjects.FILE_PURGE, PurgeFileV1(file_id=file_id), org_id=ORG, actor=ACTOR
        )


@asynccontextmanager
async def running_den(
    nats_server: NatsServer, postgres: PostgresServer, base: Path, block: bytes
) -> AsyncIterator[Den]:
    secret = os.urandom(24).hex()
    env = dict(os.environ)
    env.update(
        {
            "FLUXOS_NATS_URL": nats_server.url,
            "FLUXOS_DATABASE_URL": postgres.url(),
            "FLUXOS_DATABASE_PREFIX": "bench",
            "FLUXOS_SECRET_KEY": secret,
            "FLUXOS_LOG_LEVEL": "WARNING",
            "DEN_HTTP_PORT": str(free_port()),
            "DEN_CHUNK_BYTES": str(CHUNK),
        }
    )
    log = base / "den.log"
    proc = spawn([sys.executable, "-m", "den"], env=env, log=log)
    settings = PlatformSettings(nats_url=nats_server.url, secret_key=SecretStr(secret))
    bus = await Bus(settings, name="bench-files").connect()
    try:
        await _wait_healthy(bus, proc, log)
        expected = hashlib.sha256()
        for piece in pieces(block, SIZE):
            expected.update(piece)
        async with httpx.AsyncClient(timeout=600) as http:
            yield Den(bus, http, proc.pid, expected.hexdigest())
    finally:
        await bus.close()
        stop(proc, timeout=15)


async def run() -> dict[str, float | int | str]:
    block = os.urandom(BLOCK)
    series: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="fluxos-bench-files-") as tmp:
        base = Path(tmp)
        with servers(base) as (nats_server, postgres):
            async with running_den(nats_server, postgres, base, block) as den:
                idle_rss = psutil.Process(den.pid).memory_info().rss
                with RssSampler(den.pid) as rss:
                    for _ in range(ROUNDS):
                        put_s, get_s = await raw.library(nats_server.url, block, SIZE, CHUNK)
                        fast = await raw.pipelined(nats_server.url, block, SIZE, CHUNK)
                        await den.round(block)
                        series.setdefault("raw_put", []).append(put_s)
                        series.setdefault("raw_get", []).append(get_s)
                        series.setdefault("fast_put", []).append(fast[0])
                        series.setdefault("fast_get", []).append(fast[1])
                series["upload"] = den.uploads_s
                series["download"] = den.downloads_s
    mib = SIZE / MIB
    rate = {name: mib / statistics.median(seconds) for name, seconds in series.items()}
    return {
        "size_mib": int(mib),
        "chunk_kib": CHUNK // 1024,
        "rounds": ROUNDS,
        "upload_mib_s": round(rate["upload"], 1),
        "download_mib_s": round(rate["download"], 1),
        "raw_put_mib_s": round(rate["raw_put"], 1),
        "raw_get_mib_s": round(rate["raw_get"], 1),
        "upload_ratio": round(rate["upload"] / rate["raw_put"], 3),
        "download_ratio": round(rate["download"] / rate["raw_get"], 3),
        "raw_pipelined_put_mib_s": round(rate["fast_put"], 1),
        "raw_pipelined_get_mib_s": round(rate["fast_get"], 1),
        "upload_ratio_to_pipelined": round(rate["upload"] / rate["fast_put"], 3),
        "download_ratio_to_pipelined": round(rate["download"] / rate["fast_get"], 3),
        "peak_rss_mib": round(rss.peak / MIB, 1),
        "idle_rss_mib": round(idle_rss / MIB, 1),
        "target_ratio": 0.6,
        "target_peak_rss_mib": 150,
    }


def main() -> int:
    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        result = asyncio.run(run())
    report(result)
    return 0
