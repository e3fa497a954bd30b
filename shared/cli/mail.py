"""`fluxos mail`: read the dev mailbox, where a local platform's emails land.

Under `fluxos up` mimic's default email provider is a local SMTP sink that keeps every message
in `<home>/mail` (a Maildir). This command reads those files directly, so it works whether or
not the platform is running (and never needs mimic's code).
"""

from __future__ import annotations

import json
import mailbox
from dataclasses import asdict, dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shared.cli.options import HomeOption, home_layout, make_console, platform_settings

app = typer.Typer(help="Read the dev mailbox (mail sent by a local platform).")


@dataclass
class Entry:
    index: int
    key: str
    date: str
    to: str
    subject: str


def _mail_dir(home: Path | None) -> Path:
    return home_layout(home, platform_settings()).mail_dir


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _sortable_date(message: EmailMessage) -> str:
    try:
        return parsedate_to_datetime(str(message["Date"])).isoformat(timespec="seconds")
    except (TypeError, ValueError):
        return ""


def _entries(directory: Path) -> list[tuple[Entry, bytes]]:
    """Newest first; index 1 is the newest message."""
    if not (directory / "cur").is_dir():
        return []
    box = mailbox.Maildir(directory, create=False)
    found = []
    for key in box.iterkeys():
        raw = box.get_bytes(key)
        message = _parse(raw)
        to = str(message.get("Delivered-To") or message.get("To", ""))
        found.append((Entry(0, key, _sortable_date(message), to, str(message["Subject"])), raw))
    found.sort(key=lambda item: (item[0].date, item[0].key), reverse=True)
    for index, (entry, _) in enumerate(found, start=1):
        entry.index = index
    return found


@app.callback(invoke_without_command=True)
def list_mail(
    ctx: typer.Context,
    home: HomeOption = None,
    to: Annotated[str | None, typer.Option(help="Only mail to this address.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The newest messages (1 is the newest); `fluxos mail show N` prints one."""
    if ctx.invoked_subcommand is not None:
        return
    directory = _mail_dir(home)
    entries = [e for e, _ in _entries(directory) if to is None or to.lower() in e.to.lower()]
    entries = entries[:limit]
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(asdict(entry)))
        return
    console = make_console()
    if not entries:
        console.print(f"no mail in {directory}", style="green")
        return
    table = Table(title=f"dev mailbox ({directory})")
    for column in ("#", "date", "to", "subject"):
        table.add_column(column)
    for e in entries:
        table.add_row(str(e.index), e.date.replace("T", " ")[:19], e.to, e.subject)
    console.print(table)


@app.command("show")
def show(
    which: Annotated[str, typer.Argument(help="Index from the list (1 = newest) or file key.")],
    home: HomeOption = None,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print the message as stored.")] = False,
) -> None:
    """One message: its headers and text (or HTML, or everything raw)."""
    entries = _entries(_mail_dir(home))
    chosen = next((item for item in entries if which in (str(item[0].index), item[0].key)), None)
    if chosen is None:
        typer.echo(f"no message {which!r}", err=True)
        raise typer.Exit(1)
    _, data = chosen
    if raw:
        typer.echo(data.decode("utf-8", errors="replace"))
        return
    message = _parse(data)
    for header in ("Date", "From", "To", "Subject", "Message-ID"):
        if message[header]:
            typer.echo(f"{header}: {message[header]}")
    typer.echo("")
    part = message.get_body(preferencelist=("html",) if html else ("plain", "html"))
    typer.echo(part.get_content() if isinstance(part, EmailMessage) else "(no body)")
