"""`python -m <service>`: start, serve until SIGTERM or SIGINT, stop gracefully, exit 0."""

from __future__ import annotations

import asyncio
import signal
import sys

from shared.logging import get_logger
from shared.service.app import ServiceApp

log = get_logger(__name__)


async def serve(app: ServiceApp) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(app.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # asked to stop while still starting
        starting.cancel()
    elif starting.exception() is not None:
        log.error("service.start_failed", error=repr(starting.exception()))
        await app.stop()
        return 1
    else:
        await stop.wait()
    await app.stop()
    return 0


def run(app: ServiceApp) -> None:
    try:
        import uvloop

        code = uvloop.run(serve(app))
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported platform
        code = asyncio.run(serve(app))
    sys.exit(code)
