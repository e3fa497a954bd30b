"""How `fluxos up` shows what the supervisor does: one line per event, a spinner while waiting.

On a terminal the spinner names what is still starting; in a log file (`--detach`) the same
events are plain timestamped lines.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.panel import Panel
from rich.status import Status
from rich.text import Text

from shared.runtime.health import ServiceHealth
from shared.runtime.state import RuntimeState


class ConsoleReporter:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._status: Status | None = None
        self._waiting: list[str] = []

    # -------------------------------------------------------------------------- startup
    def starting(self, component: str) -> None:
        self._waiting.append(component)
        self._spin()

    def started(self, component: str, detail: str) -> None:
        if component in ("nats", "postgres"):
            self._done(component)
            self._line("green", "✓", component, detail)
        else:
            self._line("cyan", "•", component, f"started ({detail})")

    def service_ready(self, name: str, health: ServiceHealth) -> None:
        self._done(name)
        detail = health.status if health.http_url is None else f"{health.status}, {health.http_url}"
        self._line("green", "✓", name, detail)

    def ready(self, state: RuntimeState, elapsed: float) -> None:
        self._stop_spinner()
        body = Text.assemble(("fluxos is ready", "bold green"), f" in {elapsed:.1f}s")
        if state.inbox_url:
            body.append("\ninbox: ")
            body.append(state.inbox_url, style="bold underline")
        body.append(f"\nlogs:  {state.home}/logs/", style="dim")
        self.console.print(Panel(body, expand=False))

    def not_ready(self, pending: dict[str, str], elapsed: float) -> None:
        reasons = "\n".join(f"  {name}: {why}" for name, why in sorted(pending.items()))
        self.console.print(
            Panel(
                f"still not ready after {elapsed:.0f}s; still trying\n{reasons}",
                title="fluxos is slow to start",
                border_style="yellow",
                expand=False,
            )
        )

    # ------------------------------------------------------------------------ following
    def exited(self, component: str, code: int | None, uptime: float) -> None:
        how = "exited" if code is None else f"exited with code {code}"
        self._line("red", "✗", component, f"{how} after {uptime:.1f}s")

    def restarting(self, component: str, delay: float, attempt: int) -> None:
        self._line("yellow", "↻", component, f"restarting in {delay:.1f}s (attempt {attempt})")

    def crash_loop(self, component: str, failures: int, log_tail: str) -> None:
        self.console.print(
            Panel(
                Text(log_tail or "(no output)"),
                title=f"{component} keeps crashing ({failures} times in a row); still retrying",
                subtitle="last lines of its log",
                border_style="bold red",
            )
        )

    def restart_failed(self, component: str, reason: str) -> None:
        self._line("red", "✗", component, f"could not start: {reason}")

    def stopping(self) -> None:
        self._stop_spinner()
        self._line("yellow", "■", "fluxos", "stopping")

    def stopped(self) -> None:
        self._line("green", "✓", "fluxos", "stopped")

    def failed(self, reason: str) -> None:
        self._stop_spinner()
        self.console.print(Panel(Text(reason), title="fluxos failed", border_style="bold red"))

    # ---------------------------------------------------------------------------- output
    def _line(self, style: str, mark: str, component: str, detail: str) -> None:
        line = Text(time.strftime("%H:%M:%S "), style="dim")
        line.append(f"{mark} ", style=style)
        line.append(f"{component:<9}", style="bold")
        line.append(f" {detail}")
        self.console.print(line)

    def _done(self, component: str) -> None:
        if component in self._waiting:
            self._waiting.remove(component)
        self._spin()

    def _spin(self) -> None:
        if not self.console.is_terminal:
            return
        message = "starting " + ", ".join(self._waiting) if self._waiting else "starting"
        if self._status is None:
            self._status = self.console.status(message)
            self._status.start()
        else:
            self._status.update(message)

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
