"""What the supervisor tells a person while it works; the CLI decides how it looks."""

from __future__ import annotations

from typing import Protocol

from shared.runtime.health import ServiceHealth
from shared.runtime.state import RuntimeState


class Reporter(Protocol):
    def starting(self, component: str) -> None: ...

    def started(self, component: str, detail: str) -> None: ...

    def service_ready(self, name: str, health: ServiceHealth) -> None: ...

    def ready(self, state: RuntimeState, elapsed: float) -> None: ...

    def not_ready(self, pending: dict[str, str], elapsed: float) -> None:
        """Still waiting after the ready timeout: `pending` maps a service to why."""
        ...

    def exited(self, component: str, code: int | None, uptime: float) -> None: ...

    def restarting(self, component: str, delay: float, attempt: int) -> None: ...

    def crash_loop(self, component: str, failures: int, log_tail: str) -> None: ...

    def restart_failed(self, component: str, reason: str) -> None: ...

    def stopping(self) -> None: ...

    def stopped(self) -> None: ...

    def failed(self, reason: str) -> None: ...


class SilentReporter:
    """For callers that only want the state file (and for tests of the API)."""

    def starting(self, component: str) -> None:
        pass

    def started(self, component: str, detail: str) -> None:
        pass

    def service_ready(self, name: str, health: ServiceHealth) -> None:
        pass

    def ready(self, state: RuntimeState, elapsed: float) -> None:
        pass

    def not_ready(self, pending: dict[str, str], elapsed: float) -> None:
        pass

    def exited(self, component: str, code: int | None, uptime: float) -> None:
        pass

    def restarting(self, component: str, delay: float, attempt: int) -> None:
        pass

    def crash_loop(self, component: str, failures: int, log_tail: str) -> None:
        pass

    def restart_failed(self, component: str, reason: str) -> None:
        pass

    def stopping(self) -> None:
        pass

    def stopped(self) -> None:
        pass

    def failed(self, reason: str) -> None:
        pass
