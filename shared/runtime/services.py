"""Which services `fluxos up` runs, and how each is launched.

Services are named by module string only: `shared` never imports a service package.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass

# Started in this order (all at once, but a log reads better in a stable order).
PLATFORM_SERVICES: tuple[str, ...] = ("inkpass", "tentacle", "mimic", "den", "inbox")

# Services that answer HTTP, and the port each prefers when it is free.
HTTP_DEFAULT_PORTS: Mapping[str, int] = {"inbox": 8080, "mimic": 8081, "den": 8082}


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    args: tuple[str, ...] = ()

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def http(self) -> bool:
        return self.name in HTTP_DEFAULT_PORTS

    @property
    def http_port_var(self) -> str:
        return f"{self.env_prefix}HTTP_PORT"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module, *self.args]


def service_specs(overrides: Mapping[str, str] | None) -> list[ServiceSpec]:
    """The platform's services, or `overrides`: name -> "module [args...]" (tests, development)."""
    if overrides is None:
        return [ServiceSpec(name, name) for name in PLATFORM_SERVICES]
    specs = []
    for name, command in overrides.items():
        module, *args = shlex.split(command)
        specs.append(ServiceSpec(name, module, tuple(args)))
    return specs
