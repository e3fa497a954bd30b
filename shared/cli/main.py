"""The `fluxos` command: a composition of small command modules.

Commands register here and nowhere else, so adding a group (`fluxos deadletter ...`) is one
`app.add_typer(...)` line and never touches the other commands.
"""

from __future__ import annotations

import typer

from shared.cli import contracts, deadletter, down, mail, status, up

app = typer.Typer(
    name="fluxos",
    help="Run and inspect a fluxos platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("up")(up.up)
app.command("down")(down.down)
app.command("status")(status.status)
app.add_typer(deadletter.app, name="deadletter")
app.add_typer(contracts.app, name="contracts")
app.add_typer(mail.app, name="mail")
app.command("asyncapi")(contracts.asyncapi)


def main() -> None:
    app()
