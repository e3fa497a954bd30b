"""A file is never held whole in memory: den's own process, measured while it moves a big file.

Den runs as `python -m den` (production settings but for the part size, so a file spans many
parts); its resident memory is sampled with psutil while a 256 MiB file goes up in one PUT,
comes back in one GET and once more as a long range. Holding the file (or any large share of
it) would add at least its size to the process; streaming adds a bounded window, whatever the
file's size. Only memory is asserted, never time.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psutil

from contracts.den import HEALTH
from contracts.den import subjects as s
from contracts.den.models import AuthorizeUploadV1, CreateLinkV1, PurgeFileV1
from contracts.platform.health import HealthCheckV1, HealthStatus
from shared.bus import Bus, BusTimeout, BusUnavailable
from shared.settings import PlatformSettings
from tests.den.conftest import ORG, USER, den_env
from tests.shared.bus.conftest import eventually

MIB = 1024 * 1024
SIZE = 256 * MIB
PIECE = MIB
# What den keeps in flight (32 chunks up, two batches of 16 down, 256 KiB each) plus the HTTP
# server's buffers: about 10 MiB measured here, 8 MiB at most per direction by design. Holding
# a quarter of the file would already exceed the bound.
BOUND = SIZE // 4


class PeakRss:
    """The highest resident set size of a process while the block runs (sampled every 10 ms)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(0.01)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def _pieces(block: bytes, start: int = 0, end: int = SIZE) -> Iterator[bytes]:
    """Bytes start..end (exclusive) of the test file: each MiB is the block with its number
    in front, so every MiB differs and a misplaced one would change the digest."""
    for number in range(start // PIECE, (end + PIECE - 1) // PIECE):
        piece = number.to_bytes(8, "big") + block[8:]
        low = max(start - number * PIECE, 0)
        high = min(end - number * PIECE, PIECE)
        yield piece[low:high]


async def _body(block: bytes, size: int) -> AsyncIterator[bytes]:
    for piece in _pieces(block, 0, size):
        yield piece


def _digest(block: bytes, start: int = 0, end: int = SIZE) -> str:
    h = hashlib.sha256()
    for piece in _pieces(block, start, end):
        h.update(piece)
    return h.hexdigest()


async def _received(http: httpx.AsyncClient, url: str, **headers: str) -> tuple[int, str, int]:
    """(status, SHA-256 of the body, its length), read as it streams."""
    h = hashlib.sha256()
    size = 0
    async with http.stream("GET", url, headers=headers) as response:
        async for piece in response.aiter_raw():
            h.update(piece)
            size += len(piece)
    return response.status_code, h.hexdigest(), size


async def test_big_files_stream_through_bounded_memory(platform_settings: PlatformSettings) -> None:
    env = den_env(platform_settings, DEN_PART_BYTES=str(16 * MIB), FLUXOS_LOG_LEVEL="WARNING")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "den",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    bus = await Bus(platform_settings, name="den-streaming").connect()
    http = httpx.AsyncClient(timeout=600)
    block = os.urandom(PIECE)

    async def ask(subject: Any, payload: Any) -> Any:
        return await bus.request(subject, payload, org_id=ORG, actor=USER, timeout=30)

    async def put(name: str, size: int) -> dict[str, Any]:
        auth = await ask(s.UPLOAD_AUTHORIZE, AuthorizeUploadV1(name=name))
        response = await http.put(
            auth.put_url, content=_body(block, size), headers={"Content-Length": str(size)}
        )
        assert response.status_code == 201, response.text
        file: dict[str, Any] = response.json()
        return file

    try:

        async def healthy() -> bool:
            try:
                health = await bus.request(HEALTH, HealthCheckV1(), timeout=1)
            except (BusUnavailable, BusTimeout):  # not up yet, or too busy to answer in time
                return False
            return health.status is HealthStatus.OK

        await eventually(healthy, timeout=120)
        # Once through every path with a small file, so the baseline includes what a first
        # request loads (modules, pools, buffers) and the peak only what the size adds.
        warm = await put("warm.bin", 4 * MIB)
        link = await ask(s.LINK_CREATE, CreateLinkV1(file_id=warm["file_id"]))
        assert (await _received(http, link.url))[2] == 4 * MIB
        await ask(s.FILE_PURGE, PurgeFileV1(file_id=warm["file_id"]))
        baseline = psutil.Process(proc.pid).memory_info().rss

        with PeakRss(proc.pid) as rss:
            file = await put("big.bin", SIZE)
            link = await ask(s.LINK_CREATE, CreateLinkV1(file_id=file["file_id"]))
            whole = await _received(http, link.url)
            start, end = 3 * MIB + 5, SIZE - 7 * MIB
            ranged = await _received(http, link.url, Range=f"bytes={start}-{end - 1}")

        expected = _digest(block)
        assert (file["size"], file["sha256"]) == (SIZE, expected)
        assert whole == (200, expected, SIZE)
        assert ranged == (206, _digest(block, start, end), end - start)
        grown = rss.peak - baseline
        assert grown < BOUND, f"den grew by {grown / MIB:.0f} MiB moving a {SIZE // MIB} MiB file"
        await ask(s.FILE_PURGE, PurgeFileV1(file_id=file["file_id"]))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await http.aclose()
        await bus.close()
