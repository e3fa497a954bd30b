"""What each service is launched with: its environment, its HTTP port, its log.

Everything a service needs to join the platform travels in its environment as real settings
(`FLUXOS_*` for `PlatformSettings`, `<SERVICE>_*` for its own), so `python -m <service>` under
the supervisor behaves exactly as it would anywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.runtime.home import HomeLayout
from shared.runtime.ports import choose_port
from shared.runtime.process import free_port
from shared.runtime.services import HTTP_DEFAULT_PORTS, ServiceSpec
from shared.settings import HttpServiceSettings

_ANY_INTERFACE = {"", "0.0.0.0", "::"}  # noqa: S104 - recognised, not bound


@dataclass(frozen=True)
class Launch:
    spec: ServiceSpec
    env: dict[str, str]
    log: Path
    http_port: int | None = None
    http_url: str | None = None


@dataclass(frozen=True)
class PlatformEnv:
    nats_url: str
    database_url: str
    secret_key: str
    home: HomeLayout

    def variables(self) -> dict[str, str]:
        return {
            "FLUXOS_NATS_URL": self.nats_url,
            "FLUXOS_DATABASE_URL": self.database_url,
            "FLUXOS_SECRET_KEY": self.secret_key,
            "FLUXOS_HOME": str(self.home.root),
            # Logs go to files; unbuffered, a crash never loses its last lines.
            "PYTHONUNBUFFERED": "1",
        }


def plan(
    specs: list[ServiceSpec], platform: PlatformEnv, http_ports: Mapping[str, int | None]
) -> list[Launch]:
    """One launch per service; `http_ports` (from the command line) win over the environment."""
    # The service inherits the supervisor's environment: its own <SERVICE>_* settings and
    # anything else the user exported (an LLM key, a proxy) reach it unchanged.
    base = {**os.environ, **platform.variables()}
    launches = []
    for spec in specs:
        log = platform.home.service_log(spec.name)
        if not spec.http:
            launches.append(Launch(spec, dict(base), log))
            continue
        host, port = _http_binding(spec, http_ports.get(spec.name))
        env = {**base, spec.http_port_var: str(port)}
        url_host = "127.0.0.1" if host in _ANY_INTERFACE else host
        launches.append(Launch(spec, env, log, port, f"http://{url_host}:{port}/"))
    return launches


def _http_binding(spec: ServiceSpec, override: int | None) -> tuple[str, int]:
    # Read the service's own HTTP settings as it will read them, to agree on host and port.
    own = HttpServiceSettings(_env_prefix=spec.env_prefix)
    explicit = override
    if explicit is None and "http_port" in own.model_fields_set:
        explicit = own.http_port
    if explicit is not None:
        # 0 means "any": chosen here, since the supervisor must know the URL it announces.
        return own.http_host, explicit or free_port(_bindable(own.http_host))
    return own.http_host, choose_port(_bindable(own.http_host), HTTP_DEFAULT_PORTS[spec.name])


def _bindable(host: str) -> str:
    return "0.0.0.0" if host in _ANY_INTERFACE else host  # noqa: S104 - the service's own choice
