"""`fluxos up` / `down` / `status` on real processes: embedded servers, fake services, no mocks."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import stat
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest

from shared.runtime.nats_server import NatsServer
from shared.runtime.postgres_server import PostgresServer
from shared.runtime.services import PLATFORM_SERVICES
from shared.runtime.state import Phase, RuntimeState, ServiceStatus, read_state
from tests.runtime.supervised import (
    FAKE,
    Foreground,
    assert_all_gone,
    cli_env,
    fake_starts,
    fakes,
    fluxos,
    wait_for,
)

Launch = Callable[..., Foreground]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    runs: list[Foreground] = []

    def start(services: dict[str, str] | None = None, **env: str) -> Foreground:
        home = tmp_path / f"home{len(runs)}"
        run = Foreground(home, cli_env(home, services or fakes(), **env))
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.kill()  # its children follow through their parent-death signal


@pytest.fixture
def external(nats_server: NatsServer, postgres_server: PostgresServer) -> dict[str, str]:
    return {"FLUXOS_NATS_URL": nats_server.url, "FLUXOS_DATABASE_URL": postgres_server.url()}


def _cmdlines(procs: list[psutil.Process]) -> list[str]:
    lines = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            lines.append(" ".join(proc.cmdline()))
    return lines


def _running(name: str, old_pid: int) -> Callable[[RuntimeState], bool]:
    def check(state: RuntimeState) -> bool:
        service = state.services[name]
        return (
            service.status is ServiceStatus.RUNNING
            and service.process is not None
            and service.process.pid != old_pid
        )

    return check


def test_up_runs_everything_restarts_killed_processes_and_stops_cleanly(launch: Launch) -> None:
    run = launch()
    state = run.ready()
    assert state.nats is not None
    assert state.nats.embedded
    assert state.postgres is not None
    assert state.postgres.embedded
    assert set(state.services) == set(PLATFORM_SERVICES)
    commands = _cmdlines(run.descendants())
    assert any("nats-server" in c for c in commands)
    assert any("postgres -D" in c for c in commands)

    # Each service got the platform in its environment, as real settings.
    secret_file = run.home / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((run.home / "run" / "state.json").stat().st_mode) == 0o600
    for name in PLATFORM_SERVICES:
        env = fake_starts(run.home, name)[-1]["env"]
        assert env["FLUXOS_NATS_URL"] == state.nats.url
        assert env["FLUXOS_DATABASE_URL"] == state.postgres.url
        assert env["FLUXOS_SECRET_KEY"] == secret_file.read_text().strip()
        assert env["FLUXOS_HOME"] == str(run.home)
        assert (run.home / "logs" / f"{name}.log").exists()
    inbox = state.services["inbox"]
    assert inbox.http_port is not None
    assert fake_starts(run.home, "inbox")[-1]["env"]["INBOX_HTTP_PORT"] == str(inbox.http_port)
    assert state.inbox_url == f"http://127.0.0.1:{inbox.http_port}/"
    with urllib.request.urlopen(state.inbox_url, timeout=5) as resp:  # noqa: S310 - loopback
        assert resp.status == 200
    assert state.inbox_url in run.text()

    # kill -9 of a service: restarted, becomes healthy again.
    tentacle = state.services["tentacle"].process
    assert tentacle is not None
    os.kill(tentacle.pid, signal.SIGKILL)
    state = run.wait_state(_running("tentacle", tentacle.pid), what="tentacle restarted")
    assert state.services["tentacle"].restarts == 1
    assert state.services["tentacle"].last_exit_code == -signal.SIGKILL

    # kill -9 of NATS: restarted on the same URL, and services are reachable through it again.
    assert state.nats is not None
    assert state.nats.process is not None
    os.kill(state.nats.process.pid, signal.SIGKILL)
    state = run.wait_state(
        lambda s: s.nats is not None and s.nats.restarts == 1 and s.nats.process is not None,
        what="nats restarted",
    )
    assert state.nats is not None
    assert state.nats.url == fake_starts(run.home, "den")[-1]["env"]["FLUXOS_NATS_URL"]
    wait_for(
        lambda: fluxos("status", env=run.env).returncode == 0,
        timeout=20,
        what="services healthy again through the restarted nats",
    )

    # SIGTERM: every process gone, services before the servers.
    procs = run.descendants()
    assert run.stop() == 0
    assert_all_gone(procs)
    final = run.state()
    assert final is not None
    assert final.phase is Phase.STOPPED
    assert all(s.status is ServiceStatus.STOPPED for s in final.services.values())
    assert final.children() == []


def test_a_crash_looping_service_is_retried_with_growing_delays_and_reported(
    launch: Launch, external: dict[str, str]
) -> None:
    run = launch(
        # Crashing before health is answered: with a crash shortly after start, a loaded machine
        # sometimes let one health reply through first, and the platform rightly became ready.
        fakes(tentacle="--crash-before-health --exit-code 7"),
        FLUXOS_SUPERVISOR_RESTART_INITIAL_DELAY="0.1",
        FLUXOS_SUPERVISOR_RESTART_MAX_DELAY="0.4",
        FLUXOS_SUPERVISOR_CRASH_LOOP_AFTER="3",
        **external,
    )
    wait_for(lambda: len(fake_starts(run.home, "tentacle")) >= 5, timeout=30, what="5 starts")
    state = run.wait_state(
        lambda s: s.services["tentacle"].status is ServiceStatus.CRASH_LOOP, what="crash loop"
    )
    assert state.services["tentacle"].last_exit_code == 7
    assert state.phase is Phase.STARTING  # never ready while a service cannot stay up

    delays = [float(d) for d in re.findall(r"tentacle\s+restarting in ([\d.]+)s", run.text())]
    assert delays[:4] == [0.1, 0.2, 0.4, 0.4]
    starts = [r["started"] for r in fake_starts(run.home, "tentacle")]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    for gap, delay in zip(gaps, delays, strict=False):
        assert gap >= delay
    assert "tentacle keeps crashing" in run.text()

    # The others are untouched, and the supervisor still stops cleanly.
    assert len(fake_starts(run.home, "inbox")) == 1
    procs = run.descendants()
    assert run.stop() == 0
    assert_all_gone(procs)


def test_a_service_ignoring_sigterm_is_killed_with_its_children_after_the_grace(
    launch: Launch, external: dict[str, str]
) -> None:
    run = launch(
        fakes(inbox="--ignore-sigterm --grandchild"),
        FLUXOS_SUPERVISOR_STOP_GRACE_SECONDS="1",
        **external,
    )
    run.ready()
    grandchild = fake_starts(run.home, "inbox")[-1]["grandchild"]
    procs = run.descendants()
    assert grandchild in [p.pid for p in procs]
    began = time.monotonic()
    assert run.stop() == 0
    assert time.monotonic() - began >= 1.0
    assert_all_gone(procs)


def test_external_servers_are_used_and_none_is_started(
    launch: Launch, external: dict[str, str]
) -> None:
    run = launch(**external)
    state = run.ready()
    assert state.nats is not None
    assert not state.nats.embedded
    assert state.nats.url == external["FLUXOS_NATS_URL"]
    assert state.nats.process is None
    assert state.postgres is not None
    assert not state.postgres.embedded
    assert state.postgres.url == external["FLUXOS_DATABASE_URL"]
    commands = _cmdlines(run.descendants())
    assert len(commands) == len(PLATFORM_SERVICES)
    assert all(FAKE in c for c in commands)
    assert not (run.home / "nats").exists()
    assert not (run.home / "postgres").exists()
    env = fake_starts(run.home, "tentacle")[-1]["env"]
    assert env["FLUXOS_NATS_URL"] == external["FLUXOS_NATS_URL"]
    assert env["FLUXOS_DATABASE_URL"] == external["FLUXOS_DATABASE_URL"]
    assert run.stop() == 0


async def _write_row(state: RuntimeState) -> None:
    assert state.postgres is not None
    assert state.nats is not None
    conn = await asyncpg.connect(state.postgres.url)
    await conn.execute("create table kept (v text); insert into kept values ('still here')")
    await conn.close()
    nc = await nats.connect(state.nats.url)
    await nc.jetstream().add_stream(name="KEPT", subjects=["kept.>"])
    await nc.jetstream().publish("kept.one", b"x")
    await nc.close()


async def _read_row(state: RuntimeState) -> tuple[str, int]:
    assert state.postgres is not None
    assert state.nats is not None
    conn = await asyncpg.connect(state.postgres.url)
    value: str = await conn.fetchval("select v from kept")
    await conn.close()
    nc = await nats.connect(state.nats.url)
    info = await nc.jetstream().stream_info("KEPT")
    await nc.close()
    return value, info.state.messages


def test_detach_status_down_and_a_second_up_keeps_all_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = cli_env(home, fakes())
    up = fluxos("up", "--detach", env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    state = read_state(home / "run" / "state.json")
    assert state is not None
    assert state.phase is Phase.READY
    assert f"inbox: {state.inbox_url}" in up.stdout
    secret = (home / "secret_key").read_text()

    status = fluxos("status", "--json", env=env)
    assert status.returncode == 0, status.stdout
    report = json.loads(status.stdout)
    assert report["healthy"]
    assert report["phase"] == "ready"
    assert {r["name"]: r["health"] for r in report["rows"]} == {
        "nats": "ok",
        "postgres": "ok",
        **dict.fromkeys(PLATFORM_SERVICES, "ok"),
    }
    assert fluxos("up", env=env).returncode == 1  # one supervisor per home
    asyncio.run(_write_row(state))

    procs = [psutil.Process(ref.pid) for ref in [*state.children(), state.supervisor]]
    down = fluxos("down", env=env)
    assert down.returncode == 0
    assert "stopped" in down.stdout
    assert_all_gone(procs, timeout=0.5)  # down returns only once everything is gone
    not_running = fluxos("status", env=env)
    assert not_running.returncode == 1
    assert "not running" in not_running.stdout

    again = fluxos("up", "--detach", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    second = read_state(home / "run" / "state.json")
    assert second is not None
    assert second.supervisor.pid != state.supervisor.pid
    assert asyncio.run(_read_row(second)) == ("still here", 1)
    assert (home / "secret_key").read_text() == secret
    assert fluxos("down", env=env).returncode == 0


def test_detach_fails_with_the_reason_and_leaves_nothing_running(tmp_path: Path) -> None:
    home = tmp_path / "home"
    unreachable = "postgresql://postgres:pw@127.0.0.1:1/postgres"
    env = cli_env(home, fakes(), FLUXOS_DATABASE_URL=unreachable)
    up = fluxos("up", "--detach", env=env)
    assert up.returncode == 1
    assert "cannot reach PostgreSQL at postgresql://postgres:***@127.0.0.1:1/postgres" in up.stdout
    state = read_state(home / "run" / "state.json")
    assert state is not None
    assert state.phase is Phase.FAILED
    assert not [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(home) in " ".join(p.info["cmdline"] or [])
    ]


def test_kill_9_of_the_supervisor_leaves_no_orphans(launch: Launch) -> None:
    run = launch()
    run.ready()
    procs = run.descendants()
    assert len(procs) >= len(PLATFORM_SERVICES) + 2
    run.kill()
    assert_all_gone(procs)
    assert fluxos("status", env=run.env).returncode == 1
    down = fluxos("down", env=run.env)
    assert down.returncode == 0
    assert "not running" in down.stdout
