"""`fluxos deadletter list | show | replay`: inspect and replay what no handler could process."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from shared.bus import Bus
from shared.bus.deadletter import (
    DeadLetterEntry,
    DeadLetterNotFound,
    list_dead_letters,
    read_dead_letter,
    replay_dead_letter,
)
from shared.cli.options import HomeOption, home_layout, make_console, platform_settings
from shared.logging import configure as configure_logging
from shared.runtime.control import running_platform
from shared.settings import PlatformSettings

T = TypeVar("T")

app = typer.Typer(help="Inspect and replay dead letters.", no_args_is_help=True)


def _settings(home: HomeOption) -> PlatformSettings:
    platform = platform_settings()
    state = running_platform(home_layout(home, platform))
    if state is not None and state.nats is not None:
        platform = platform.model_copy(update={"nats_url": state.nats.url})
    return platform


def _with_bus(home: HomeOption, work: Callable[[Bus], Awaitable[T]]) -> T:
    configure_logging(level="ERROR", fmt="console")

    async def run() -> T:
        try:
            bus = await Bus(_settings(home), name="fluxos-cli").connect(timeout=3)
        except Exception as exc:
            typer.echo(f"cannot reach NATS: {exc}", err=True)
            raise typer.Exit(2) from None
        try:
            return await work(bus)
        finally:
            await bus.close()

    return asyncio.run(run())


def _row(entry: DeadLetterEntry) -> dict[str, object]:
    letter = entry.letter
    return {
        "seq": entry.seq,
        "failed_at": letter.failed_at.isoformat(),
        "service": letter.service,
        "consumer": letter.consumer,
        "subject": letter.subject,
        "code": letter.code,
        "reason": letter.reason,
        "deliveries": letter.deliveries,
        "bytes": len(letter.body),
    }


@app.command("list")
def list_(
    home: HomeOption = None,
    service: Annotated[str | None, typer.Option(help="Only this service's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The newest dead letters, oldest first."""
    entries = _with_bus(home, lambda bus: list_dead_letters(bus, service=service, limit=limit))
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(_row(entry)))
        return
    console = make_console()
    if not entries:
        console.print("no dead letters", style="green")
        return
    table = Table(title="dead letters")
    for column in ("seq", "failed at", "consumer", "code", "reason"):
        table.add_column(column)
    for entry in entries:
        row = _row(entry)
        table.add_row(
            str(row["seq"]),
            str(row["failed_at"])[:19],
            f"{row['service']}/{row['consumer']}",
            str(row["code"]),
            str(row["reason"])[:80],
        )
    console.print(table)


@app.command("show")
def show(seq: int, home: HomeOption = None) -> None:
    """One dead letter, with the original headers and body."""

    async def work(bus: Bus) -> DeadLetterEntry:
        return await read_dead_letter(bus, seq)

    try:
        entry = _with_bus(home, work)
    except DeadLetterNotFound as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    row = _row(entry)
    row["headers"] = entry.letter.headers
    row["body"] = entry.letter.body.decode("utf-8", errors="backslashreplace")
    typer.echo(json.dumps(row, indent=2, ensure_ascii=False))


@app.command("replay")
def replay(seq: int, home: HomeOption = None) -> None:
    """Publish a dead letter's original message again, to its original subject."""
    who = os.environ.get("USER", "operator")

    async def work(bus: Bus) -> str:
        replayed = await replay_dead_letter(bus, seq, replayed_by=who)
        return replayed.subject

    try:
        subject = _with_bus(home, work)
    except DeadLetterNotFound as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"replayed dead letter {seq} to {subject}")
