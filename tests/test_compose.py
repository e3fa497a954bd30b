"""`compose.yaml` checked structurally: we cannot run Docker here, so this is what proves it.

Every command must be runnable, every environment variable a real setting with a valid value,
NATS three routed nodes with streams at R3, and every container health-checked and (for the
stateless services) replicated.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import pytest
import yaml
from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

from shared.runtime.services import HTTP_DEFAULT_PORTS, PLATFORM_SERVICES
from shared.settings import HttpServiceSettings, PlatformSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
# What an operator exports before `docker compose up` (see the head of compose.yaml).
OPERATOR_ENV = {"POSTGRES_PASSWORD": "pw", "FLUXOS_SECRET_KEY": "k" * 64}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _interpolate(value: str) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, against OPERATOR_ENV."""

    def replace(match: re.Match[str]) -> str:
        name, op = match["name"], match["op"] or ""
        if name in OPERATOR_ENV:
            return OPERATOR_ENV[name]
        if op.endswith("-"):
            return match["arg"]
        raise AssertionError(f"${{{name}}} is neither exported by the operator nor defaulted")

    return _VARIABLE.sub(replace, value)


@cache
def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _nats_nodes() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _services().items() if str(s.get("image", "")).startswith("nats:")}


def _flag(command: list[str], flag: str) -> str:
    assert flag in command, f"{flag} missing from {command}"
    return command[command.index(flag) + 1]


def _env(service: str) -> dict[str, str]:
    raw: dict[str, Any] = _services()[service].get("environment", {})
    assert isinstance(raw, dict), f"{service}: environment must be a mapping"
    return {key: _interpolate(str(value)) for key, value in raw.items()}


def _service_settings(service: str) -> type[ServiceSettings]:
    """The service's own settings class, or the shared base it will extend until it exists."""
    try:
        module = importlib.import_module(f"{service}.settings")
    except ModuleNotFoundError as exc:
        if exc.name != f"{service}.settings":
            raise
        return HttpServiceSettings if service in HTTP_DEFAULT_PORTS else ServiceSettings
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceSettings) and cls.__module__ == module.__name__
    ]
    assert len(found) == 1, f"{service}.settings should define one settings class: {found}"
    assert found[0].model_config.get("env_prefix") == f"{service.upper()}_"
    return found[0]


def _check_value(owner: str, name: str, field: FieldInfo, value: str) -> None:
    assert field.annotation is not None
    annotated: Any = (
        Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    )
    try:
        TypeAdapter(annotated).validate_python(value)
    except ValueError as exc:
        raise AssertionError(f"{owner}: {name}={value!r} is not a valid value: {exc}") from None


# ----------------------------------------------------------------------------------- NATS
def test_nats_is_three_nodes_each_routed_to_the_other_two() -> None:
    nodes = _nats_nodes()
    assert len(nodes) == 3
    names, clusters = set(), set()
    for node, spec in nodes.items():
        command: list[str] = spec["command"]
        assert "--jetstream" in command or "-js" in command
        names.add(_flag(command, "--name"))
        clusters.add(_flag(command, "--cluster_name"))
        assert _flag(command, "--cluster").endswith(":6222")
        routes = set(_flag(command, "--routes").split(","))
        assert routes == {f"nats://{other}:6222" for other in nodes if other != node}
        volume = spec["volumes"][0].split(":")
        assert volume[1] == _flag(command, "--store_dir"), f"{node}: JetStream data not on a volume"
    assert len(names) == 3, "server names must differ"
    assert len(clusters) == 1, "all nodes must be in one cluster"


def test_services_know_all_three_nodes_and_replicate_streams_three_times() -> None:
    nodes = {f"nats://{node}:4222" for node in _nats_nodes()}
    for service in PLATFORM_SERVICES:
        env = _env(service)
        assert set(env["FLUXOS_NATS_URL"].split(",")) == nodes, service
        assert env["FLUXOS_STREAM_REPLICAS"] == "3", service


def test_postgres_has_pgvector_and_services_use_it() -> None:
    postgres = _services()["postgres"]
    assert postgres["image"].startswith("pgvector/pgvector:")
    for service in PLATFORM_SERVICES:
        url = _env(service)["FLUXOS_DATABASE_URL"]
        assert url.startswith("postgresql://postgres:pw@postgres:5432/"), service


def test_secrets_have_no_defaults() -> None:
    """A platform must never start with a secret everyone can read in this file."""
    raw = (ROOT / "compose.yaml").read_text()
    for name in OPERATOR_ENV:
        uses = re.findall(r"\$\{" + name + r"(:?[-?])?", raw)
        assert uses, f"{name} unused"
        assert all(op == ":?" for op in uses), f"{name} must be required (${{{name}:?...}})"


# ------------------------------------------------------------------------------- services
@pytest.mark.parametrize("service", PLATFORM_SERVICES)
def test_service_command_is_a_runnable_module(service: str) -> None:
    spec = _services()[service]
    assert spec["command"] == ["python", "-m", service]
    assert spec["build"] == "."
    assert importlib.util.find_spec(service) is not None, f"package {service} is missing"
    assert importlib.util.find_spec(f"{service}.__main__") is not None, f"no python -m {service}"


@pytest.mark.parametrize("service", PLATFORM_SERVICES)
def test_every_environment_variable_is_a_real_setting(service: str) -> None:
    own = _service_settings(service)
    prefix = f"{service.upper()}_"
    for key, value in _env(service).items():
        if key.startswith("FLUXOS_"):
            name, fields, owner = (
                key.removeprefix("FLUXOS_").lower(),
                PlatformSettings.model_fields,
                "PlatformSettings",
            )
        elif key.startswith(prefix):
            name, fields, owner = key.removeprefix(prefix).lower(), own.model_fields, own.__name__
            assert name != "platform", f"{service}: set the platform through FLUXOS_* instead"
        else:
            raise AssertionError(f"{service}: {key} is no setting (FLUXOS_* or {prefix}*)")
        assert name in fields, f"{service}: {key} is not a field of {owner}"
        _check_value(service, key, fields[name], value)


@pytest.mark.parametrize("service", PLATFORM_SERVICES)
def test_service_is_stateless_replicated_and_waits_for_healthy_infrastructure(service: str) -> None:
    spec = _services()[service]
    assert spec["deploy"]["replicas"] > 1
    assert "ports" not in spec, "replicas cannot share a host port; publish through the gateway"
    needs = {"postgres", *_nats_nodes()}
    assert {k: v["condition"] for k, v in spec["depends_on"].items()} == dict.fromkeys(
        needs, "service_healthy"
    )


@pytest.mark.parametrize("service", PLATFORM_SERVICES)
def test_service_health_check_asks_the_service_itself(service: str) -> None:
    test = _services()[service]["healthcheck"]["test"]
    env = _env(service)
    port_var, host_var = f"{service.upper()}_HTTP_PORT", f"{service.upper()}_HTTP_HOST"
    assert test[0] == "CMD"
    if service in HTTP_DEFAULT_PORTS:
        assert test[1:3] == ["python", "-c"]
        compile(test[3], f"<{service} healthcheck>", "exec")
        url = re.fullmatch(r".*urlopen\('http://127\.0\.0\.1:(\d+)/health'.*", test[3])
        assert url is not None, test[3]
        assert url[1] == env[port_var]
        assert env[host_var] == "0.0.0.0", "the gateway must reach it from outside the container"
    else:
        assert test[1:] == ["python", "-m", "shared.cli.healthcheck", service]
        assert importlib.util.find_spec("shared.cli.healthcheck") is not None
        assert port_var not in env


def test_every_container_has_a_health_check() -> None:
    for name, spec in _services().items():
        check = spec.get("healthcheck") or {}
        assert check.get("test"), name
        assert not check.get("disable"), name


def test_gateway_spreads_each_http_service_over_its_replicas() -> None:
    caddyfile: str = _compose()["configs"]["caddyfile"]["content"]
    published = {p.rsplit(":", 1)[1] for p in _services()["gateway"]["ports"]}
    for service in HTTP_DEFAULT_PORTS:
        port = _env(service)[f"{service.upper()}_HTTP_PORT"]
        assert f"dynamic a {service} {port}" in caddyfile
        assert port in published


def test_dockerfile_installs_the_project_on_python_311_slim() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN pip install \.", dockerfile, re.MULTILINE)
    assert re.search(r'^CMD \["python", "-m", "\w+"\]$', dockerfile, re.MULTILINE)
    assert "USER " in dockerfile, "services should not run as root"
