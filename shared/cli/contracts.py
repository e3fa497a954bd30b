"""`fluxos asyncapi` and `fluxos contracts check | snapshot`: the bus's contracts as documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from contracts import snapshots

app = typer.Typer(
    help="Check or update the contracts' JSON Schema snapshots.", no_args_is_help=True
)


@app.command("check")
def check() -> None:
    """Fail if any model's schema differs from its committed snapshot."""
    problems = snapshots.drift()
    for line in problems:
        typer.echo(line, err=True)
    if problems:
        typer.echo("review the change, then: fluxos contracts snapshot", err=True)
        raise typer.Exit(1)
    typer.echo("contract snapshots are up to date")


@app.command("snapshot")
def snapshot() -> None:
    """Rewrite the snapshots from the models (after reviewing the change)."""
    changed = snapshots.update()
    for line in changed:
        typer.echo(line)
    typer.echo(f"{len(changed)} snapshot(s) changed")


def asyncapi(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """The AsyncAPI document of the whole bus (the same as `faststream docs gen`)."""
    from shared.bus.catalog import build_catalog  # imported here: it builds the whole catalog

    schema = build_catalog().schema.to_specification().to_jsonable()  # as `docs gen` does
    text = json.dumps(schema, indent=2, sort_keys=True)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")
        typer.echo(f"wrote {out}")
