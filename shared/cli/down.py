"""`fluxos down`: stop the platform running on a home, wherever it was started from."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.cli.options import HomeOption, home_layout, make_console, platform_settings
from shared.runtime.control import stop_platform


def down(
    home: HomeOption = None,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait before killing what is left.")
    ] = 60.0,
) -> None:
    """Stop the services, then PostgreSQL and NATS; return when every process is gone."""
    layout = home_layout(home, platform_settings())
    console = make_console()
    with console.status("stopping fluxos"):
        result = stop_platform(layout, timeout=timeout)
    if not result.was_running:
        console.print(f"fluxos is not running on {layout.root}")
    elif result.forced:
        console.print(f"fluxos did not stop within {timeout:g}s and was killed", style="yellow")
    else:
        console.print("fluxos stopped", style="green")
