"""`python -m <service>`: start, serve until SIGTERM or SIGINT, stop gracefully, exit 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from shared.logging import get_logger
from shared.service.app import ServiceApp

log = get_logger(__name__)

_STOP_SLACK_S = 10.0


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
        await _stop_within_bound(app)
        return 1
    else:
        await stop.wait()
    await _stop_within_bound(app)
    return 0


async def _stop_within_bound(app: ServiceApp) -> None:
    """Stop gracefully; a stop that overruns every grace period exits hard rather than hang.

    A supervisor escalates to SIGKILL anyway, but a service run by hand or by systemd without a
    kill timeout would otherwise hang forever on one stuck task. Exiting via `os._exit` skips the
    event loop's own cancel-everything-and-wait, which is what would hang.
    """
    bound = 3 * app.settings.shutdown_grace_seconds + _STOP_SLACK_S
    stopping = asyncio.create_task(app.stop(), name="service-stop")
    done, _ = await asyncio.wait({stopping}, timeout=bound)
    if not done:
        log.error("service.stop_overran", bound_s=bound)
        os._exit(1)
    stopping.result()


def run(app: ServiceApp) -> None:
    try:
        import uvloop

        code = uvloop.run(serve(app))
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported platform
        code = asyncio.run(serve(app))
    sys.exit(code)
