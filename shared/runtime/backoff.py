"""When to restart a process that exited: exponential backoff, forgiven after a stable run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RestartPolicy:
    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    stable_after: float = 30.0
    """A run at least this long proves the last crash is over: the next delay starts afresh."""
    crash_loop_after: int = 5
    """This many exits in a row, each before `stable_after`, is reported as a crash loop."""


@dataclass
class Backoff:
    policy: RestartPolicy
    failures: int = 0

    def on_exit(self, uptime: float) -> float:
        """Record an exit after `uptime` seconds; return how long to wait before restarting."""
        if uptime >= self.policy.stable_after:
            self.failures = 0
        self.failures += 1
        delay = self.policy.initial_delay * self.policy.multiplier ** (self.failures - 1)
        return min(self.policy.max_delay, delay)

    @property
    def crash_looping(self) -> bool:
        return self.failures >= self.policy.crash_loop_after
