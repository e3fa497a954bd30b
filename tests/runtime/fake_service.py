"""A stand-in service for supervisor tests: `python -m tests.runtime.fake_service NAME [options]`.

It behaves like a real service as the supervisor sees it (reads the same settings, connects to
PostgreSQL and NATS, answers `<name>.v1.rpc.health.check` through the real bus, serves HTTP when
given a port, exits 0 on SIGTERM) and can be told to misbehave. Each start appends a line to
`$FLUXOS_HOME/fake/<name>.jsonl` with what it was given, for tests to inspect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from contracts.platform.health import HealthCheckV1, HealthStatus, HealthV1, health_subject
from shared.bus import Bus, Request, RpcServer
from shared.settings import PlatformSettings


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fake_service")
    parser.add_argument("name")
    parser.add_argument("--crash-after", type=float, help="exit with --exit-code after this long")
    parser.add_argument(
        "--crash-before-health",
        action="store_true",
        help="exit with --exit-code right after starting, before health is ever answered",
    )
    parser.add_argument("--exit-code", type=int, default=3)
    parser.add_argument("--ignore-sigterm", action="store_true")
    parser.add_argument("--status", default="ok", choices=[s.value for s in HealthStatus])
    parser.add_argument("--grandchild", action="store_true", help="run a sleeping child too")
    return parser.parse_args(argv)


def _record(name: str, port: int | None, extra: dict[str, object]) -> None:
    home = Path(os.environ["FLUXOS_HOME"])
    (home / "fake").mkdir(exist_ok=True)
    seen = {k: v for k, v in os.environ.items() if k.startswith(("FLUXOS_", name.upper() + "_"))}
    line = {"pid": os.getpid(), "started": time.time(), "env": seen, "http_port": port, **extra}
    with (home / "fake" / f"{name}.jsonl").open("a") as out:
        out.write(json.dumps(line) + "\n")


async def _serve_http(port: int) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", port)


async def _run(opts: argparse.Namespace) -> int:
    name: str = opts.name
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if opts.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    settings = PlatformSettings()
    assert settings.database_url is not None, "the supervisor passes FLUXOS_DATABASE_URL"
    conn = await asyncpg.connect(settings.database_url)
    await conn.close()

    port_var = os.environ.get(f"{name.upper()}_HTTP_PORT")
    port = int(port_var) if port_var else None
    http = await _serve_http(port) if port else None
    grandchild = (
        await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(600)")
        if opts.grandchild
        else None
    )
    _record(name, port, {"grandchild": grandchild.pid if grandchild else None})
    if opts.crash_before_health:
        # A service that can never once look healthy: the platform must not call itself ready.
        os._exit(opts.exit_code)
    if opts.crash_after is not None:
        # After the record, so a test knows each crash happened after the start it saw.
        loop.call_later(opts.crash_after, os._exit, opts.exit_code)

    started = datetime.now(UTC)

    async def health(_: HealthCheckV1, __: Request) -> HealthV1:
        return HealthV1(
            service=name,
            instance_id=str(os.getpid()),
            version="test",
            status=HealthStatus(opts.status),
            started_at=started,
            http_url=f"http://127.0.0.1:{port}/" if port else None,
        )

    bus = await Bus(settings, name=f"fake-{name}").connect()
    server = RpcServer(bus, health_subject(name), health, queue=name)
    await server.start()
    await stop.wait()
    await server.stop(grace=1.0)
    await bus.close()
    if http is not None:
        http.close()
    return 0


def main() -> None:
    sys.exit(asyncio.run(_run(_options(sys.argv[1:]))))


if __name__ == "__main__":
    main()
