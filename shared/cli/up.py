"""`fluxos up`: start the platform, in the foreground or in the background."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from shared.cli.options import HomeOption, home_layout, make_console, platform_settings
from shared.cli.progress import ConsoleReporter
from shared.logging import configure as configure_logging
from shared.runtime.control import (
    DetachError,
    running_platform,
    spawn_detached,
    stop_platform,
    wait_ready,
)
from shared.runtime.home import HomeLayout
from shared.runtime.lock import AlreadyRunning
from shared.runtime.process import stop
from shared.runtime.supervisor import Supervisor, SupervisorConfig
from shared.runtime.supervisor_settings import SupervisorSettings


def up(
    home: HomeOption = None,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach", "-d", help="Run in the background; return once the platform is ready."
        ),
    ] = False,
    inbox_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Inbox HTTP port (default 8080 if free; 0: any)."),
    ] = None,
    mimic_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Mimic webhook port (default 8081 if free)."),
    ] = None,
    den_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Den download port (default 8082 if free)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="With --detach: give up (and stop it) if not ready by then.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start NATS, PostgreSQL and every service; print the inbox URL when ready."""
    platform = platform_settings()
    try:
        settings = SupervisorSettings()
    except ValidationError as exc:
        typer.echo(f"invalid FLUXOS_SUPERVISOR_* setting:\n{exc}", err=True)
        raise typer.Exit(2) from None
    layout = home_layout(home, platform)
    console = make_console()

    running = running_platform(layout)
    if running is not None:
        where = f" (inbox: {running.inbox_url})" if running.inbox_url else ""
        console.print(f"fluxos already runs on {layout.root}{where}")
        # Asking for a background platform that is already there is not an error.
        raise typer.Exit(0 if detach else 1)

    ports = {"inbox": inbox_port, "mimic": mimic_port, "den": den_port}
    if detach:
        _up_detached(console, layout, ports, timeout or settings.ready_timeout)
        return
    config = SupervisorConfig(home=layout, platform=platform, settings=settings, http_ports=ports)
    raise typer.Exit(_run_foreground(console, config))


def _run_foreground(console: Console, config: SupervisorConfig) -> int:
    # The supervisor's own bus connection only probes health; its reconnect chatter would
    # drown the progress, and what matters shows up as unhealthy services anyway.
    configure_logging(level="ERROR", fmt="console")
    console.print(f"starting fluxos in {config.home.root}", style="bold")
    supervisor = Supervisor(config, reporter=ConsoleReporter(console))
    try:
        return asyncio.run(supervisor.run())
    except AlreadyRunning as exc:
        console.print(str(exc), style="red")
        return 1
    except KeyboardInterrupt:  # only outside the supervisor's own signal handling
        return 130


def _up_detached(
    console: Console, layout: HomeLayout, ports: dict[str, int | None], timeout: float
) -> None:
    args: list[str] = []
    for name, port in ports.items():
        if port is not None:
            args += [f"--{name}-port", str(port)]
    proc = spawn_detached(layout, args)
    try:
        with console.status("starting fluxos in the background"):
            state = wait_ready(layout, proc, timeout=timeout)
    except DetachError as exc:
        if proc.poll() is None:  # stalled, not dead: leave nothing half-started behind
            stop_platform(layout)
            stop(proc)
        console.print(f"fluxos did not start: {exc}", style="red")
        console.print(f"see {layout.supervisor_log}", style="dim")
        raise typer.Exit(1) from None
    console.print(f"fluxos is ready (pid {state.supervisor.pid})", style="bold green")
    if state.inbox_url:
        console.print(f"inbox: {state.inbox_url}")
    console.print(f"stop it with: fluxos down --home {layout.root}", style="dim")
