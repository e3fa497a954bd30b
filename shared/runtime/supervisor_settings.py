"""How the supervisor behind `fluxos up` behaves (prefix `FLUXOS_SUPERVISOR_`).

Separate from `PlatformSettings`: services never read these, only the supervisor does.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.runtime.backoff import RestartPolicy


class SupervisorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLUXOS_SUPERVISOR_", extra="ignore", frozen=True)

    services: dict[str, str] | None = Field(
        default=None,
        description=(
            'Replace the platform\'s services: JSON {"name": "module [args...]"}, each run as '
            "`python -m module args...` (development and tests)."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Interface the embedded servers bind.")
    nats_port: int = Field(default=4222, ge=0, le=65535, description="Preferred; 0: any.")
    postgres_port: int = Field(default=5432, ge=0, le=65535, description="Preferred; 0: any.")
    postgres_fsync: bool = Field(
        default=True, description="Off only for throwaway data: faster, unsafe on power loss."
    )
    restart_initial_delay: float = Field(default=0.5, gt=0)
    restart_max_delay: float = Field(default=30.0, gt=0)
    restart_stable_after: float = Field(
        default=30.0, gt=0, description="Seconds up after which a service's crash count resets."
    )
    crash_loop_after: int = Field(default=5, ge=1)
    stop_grace_seconds: float = Field(
        default=15.0, gt=0, description="SIGTERM to SIGKILL, longer than services' own grace."
    )
    ready_timeout: float = Field(
        default=120.0, gt=0, description="Warn loudly if the platform is not ready by then."
    )
    probe_interval: float = Field(default=0.2, gt=0)

    def restart_policy(self) -> RestartPolicy:
        return RestartPolicy(
            initial_delay=self.restart_initial_delay,
            max_delay=self.restart_max_delay,
            stable_after=self.restart_stable_after,
            crash_loop_after=self.crash_loop_after,
        )
