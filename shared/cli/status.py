"""`fluxos status`: how each part of the platform is; exit code 1 if anything is down.

A platform started by `fluxos up` is found through its home. Without one, but with
`FLUXOS_NATS_URL` set (compose, a remote deployment), the services are asked over that bus.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from typing import Annotated

import typer
from rich.table import Table

from shared.cli.options import HomeOption, home_layout, make_console, platform_settings
from shared.logging import configure as configure_logging
from shared.runtime.children import is_alive
from shared.runtime.control import running_platform
from shared.runtime.health import BusProbe, ServiceHealth, check_all
from shared.runtime.infra import redact, uses_external_nats
from shared.runtime.services import PLATFORM_SERVICES
from shared.runtime.state import RuntimeState, ServerState
from shared.settings import PlatformSettings


@dataclass
class Row:
    name: str
    health: str
    healthy: bool
    process: str = ""
    restarts: int | None = None
    detail: str = ""


@dataclass
class Report:
    home: str
    running: bool
    phase: str | None = None
    rows: list[Row] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.running and all(row.healthy for row in self.rows)


def status(
    home: HomeOption = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", "-s", help="Only this service (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per health check.")] = 2.0,
) -> None:
    """Each service's health (over the bus) and each process's state."""
    configure_logging(level="ERROR", fmt="console")
    platform = platform_settings()
    layout = home_layout(home, platform)
    state = running_platform(layout)
    report = Report(home=str(layout.root), running=state is not None)
    if state is not None:
        report.phase = state.phase.value
        report.rows += _server_rows(state)
        if state.nats is not None:
            platform = platform.model_copy(update={"nats_url": state.nats.url})
    if state is not None or uses_external_nats(platform):
        report.running = True
        names = service or (list(state.services) if state else list(PLATFORM_SERVICES))
        report.rows += asyncio.run(_service_rows(platform, names, state, timeout))
    _print(report, as_json)
    raise typer.Exit(0 if report.healthy else 1)


def _server_rows(state: RuntimeState) -> list[Row]:
    rows = []
    for name, server in (("nats", state.nats), ("postgres", state.postgres)):
        if server is None:
            rows.append(Row(name, "starting", False))
        else:
            rows.append(_server_row(name, server))
    return rows


def _server_row(name: str, server: ServerState) -> Row:
    url = redact(server.url)
    if not server.embedded:
        # Reaching an external server is the services' business; their health says it.
        return Row(name, "external", True, detail=url)
    alive = server.process is not None and is_alive(server.process)
    pid = f"pid {server.process.pid}" if server.process else ""
    return Row(name, "ok" if alive else "down", alive, pid, server.restarts, url)


async def _service_rows(
    platform: PlatformSettings, names: list[str], state: RuntimeState | None, timeout: float
) -> list[Row]:
    try:
        probe = await BusProbe.connect(platform, timeout=timeout, connect_deadline=timeout)
    except ConnectionError as exc:
        return [Row("bus", "unreachable", False, detail=str(exc))]
    try:
        results = await check_all(probe, names)
    finally:
        await probe.close()
    return [_service_row(name, results[name], state) for name in names]


def _service_row(name: str, health: ServiceHealth, state: RuntimeState | None) -> Row:
    row = Row(name, health.status, health.healthy, detail=health.detail or health.http_url or "")
    own = state.services.get(name) if state is not None else None
    if own is not None:
        row.restarts = own.restarts
        row.process = own.status.value
        if own.process is not None:
            row.process += f", pid {own.process.pid}"
    return row


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        payload = {**asdict(report), "healthy": report.healthy}
        typer.echo(json.dumps(payload, indent=2))
        return
    console = make_console()
    if not report.running:
        console.print(f"fluxos is not running on {report.home}", style="yellow")
        return
    table = Table(title=f"fluxos on {report.home}" + (f" ({report.phase})" if report.phase else ""))
    for column in ("component", "health", "process", "restarts", "detail"):
        table.add_column(column)
    for row in report.rows:
        style = "green" if row.healthy else "red"
        restarts = "" if row.restarts is None else str(row.restarts)
        table.add_row(row.name, f"[{style}]{row.health}[/]", row.process, restarts, row.detail)
    console.print(table)
