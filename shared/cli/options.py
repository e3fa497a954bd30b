"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from shared.runtime.home import HomeLayout
from shared.settings import PlatformSettings

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="FLUXOS_HOME",
        help="Data directory of the platform (default: ~/.fluxos).",
        show_default=False,
    ),
]


def platform_settings() -> PlatformSettings:
    """The `FLUXOS_*` settings, or a clean exit naming the bad variable."""
    try:
        return PlatformSettings()
    except ValidationError as exc:
        typer.echo(f"invalid FLUXOS_* setting:\n{exc}", err=True)
        raise typer.Exit(2) from None


def home_layout(home: Path | None, platform: PlatformSettings) -> HomeLayout:
    return HomeLayout.at(home if home is not None else platform.home)


def make_console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:
        # A log file has no width; rich's default of 80 columns would split URLs in two.
        console.width = 200
    return console
