"""`python -m shared.cli.healthcheck <service>`, the container health check, on the real bus."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.runtime.nats_server import NatsServer
from shared.runtime.postgres_server import PostgresServer
from shared.runtime.process import spawn, stop
from tests.runtime.supervised import FAKE, REPO, cli_env, fake_starts, wait_for


@pytest.fixture
def bus_env(
    tmp_path: Path, nats_server: NatsServer, postgres_server: PostgresServer
) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return cli_env(
        home,
        {},
        FLUXOS_NATS_URL=nats_server.url,
        FLUXOS_DATABASE_URL=postgres_server.url(),
    )


@pytest.fixture
def serving(bus_env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    """A healthy `tentacle` and a `den` stuck in `starting`, answering on the bus."""
    procs = [
        spawn([sys.executable, "-m", FAKE, "tentacle"], env=bus_env, cwd=REPO),
        spawn([sys.executable, "-m", FAKE, "den", "--status", "starting"], env=bus_env, cwd=REPO),
    ]
    home = Path(bus_env["FLUXOS_HOME"])
    wait_for(
        lambda: fake_starts(home, "tentacle") and fake_starts(home, "den"),
        timeout=20,
        what="fake services started",
    )
    yield
    for proc in procs:
        stop(proc)


def _healthcheck(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.healthcheck", service, "--timeout", "2"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.usefixtures("serving")
def test_exit_code_says_whether_the_service_answers_healthy(bus_env: dict[str, str]) -> None:
    # The fake subscribes just after it records its start; the first ask may come too early.
    wait_for(
        lambda: _healthcheck("tentacle", bus_env).returncode == 0,
        timeout=10,
        what="tentacle healthy",
    )
    starting = _healthcheck("den", bus_env)
    assert starting.returncode == 1
    assert "den: starting" in starting.stderr
    absent = _healthcheck("inkpass", bus_env)
    assert absent.returncode == 1
    assert "no instance answers" in absent.stderr


def test_unreachable_nats_fails_with_the_reason(bus_env: dict[str, str]) -> None:
    result = _healthcheck("tentacle", {**bus_env, "FLUXOS_NATS_URL": "nats://127.0.0.1:1"})
    assert result.returncode == 1
    assert "cannot reach NATS at nats://127.0.0.1:1" in result.stderr
