"""`python -m shared.cli.healthcheck <service>`: exit 0 iff the service answers healthy.

For container health checks of bus-only services: it reads `FLUXOS_NATS_URL` like any service,
asks `<service>.v1.rpc.health.check` once, and says why on stderr when the answer is no.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from shared.logging import configure as configure_logging
from shared.runtime.health import BusProbe, ServiceHealth
from shared.settings import PlatformSettings


async def _check(platform: PlatformSettings, service: str, timeout: float) -> ServiceHealth:
    probe = await BusProbe.connect(
        platform, name="fluxos-healthcheck", timeout=timeout, connect_deadline=timeout
    )
    try:
        return await probe.check(service)
    finally:
        await probe.close()


def healthcheck(
    service: Annotated[str, typer.Argument(help="Service name, e.g. tentacle.")],
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for an answer.")] = 3.0,
) -> None:
    configure_logging(level="ERROR", fmt="console")
    try:
        health = asyncio.run(_check(PlatformSettings(), service, timeout))
    except ConnectionError as exc:
        typer.echo(f"{service}: {exc}", err=True)
        raise typer.Exit(1) from None
    if not health.healthy:
        detail = f": {health.detail}" if health.detail else ""
        typer.echo(f"{service}: {health.status}{detail}", err=True)
        raise typer.Exit(1)


def main() -> None:
    typer.run(healthcheck)


if __name__ == "__main__":
    main()
