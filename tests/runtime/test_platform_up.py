"""The real platform under `fluxos up`: every service migrates, provisions and answers health.

The other supervisor tests play the services with a fake to stay fast and to misbehave on
demand; this one proves the real services start, restart and stop under the supervisor, within
the platform's start-up budget.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from shared.runtime.services import PLATFORM_SERVICES
from shared.runtime.state import Phase, ServiceStatus, read_state
from tests.runtime.supervised import assert_all_gone, cli_env, fluxos, wait_for

# A liveness bound, not a speed claim (that is ~4 s idle): the first start includes initdb and
# every migration, and on a loaded 2-core machine importing the services alone took ~25 s.
READY_WITHIN_SECONDS = 90.0


@pytest.mark.slow
def test_up_runs_the_real_platform_restarts_a_killed_service_and_down_stops_it(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in cli_env(home, {}).items() if k != "FLUXOS_SUPERVISOR_SERVICES"}
    began = time.monotonic()
    up = fluxos("up", "--detach", "--timeout", str(READY_WITHIN_SECONDS), env=env)
    assert up.returncode == 0, up.stdout + up.stderr + (home / "logs/supervisor.log").read_text()
    assert time.monotonic() - began < READY_WITHIN_SECONDS
    state = read_state(home / "run" / "state.json")
    assert state is not None
    try:
        assert state.phase is Phase.READY
        assert list(state.services) == list(PLATFORM_SERVICES)
        assert state.inbox_url is not None
        with urllib.request.urlopen(state.inbox_url + "ready", timeout=5) as resp:  # noqa: S310
            assert json.loads(resp.read())["service"] == "inbox"

        status = fluxos("status", "--json", env=env)
        assert status.returncode == 0, status.stdout

        inbox = state.services["inbox"].process
        assert inbox is not None
        os.kill(inbox.pid, signal.SIGKILL)

        def restarted() -> bool:
            now = read_state(home / "run" / "state.json")
            assert now is not None
            service = now.services["inbox"]
            return service.status is ServiceStatus.RUNNING and service.restarts == 1

        wait_for(restarted, timeout=READY_WITHIN_SECONDS, what="inbox restarted and healthy")
        assert fluxos("status", env=env).returncode == 0
    finally:
        final = read_state(home / "run" / "state.json") or state
        procs = [
            psutil.Process(r.pid)
            for r in [*final.children(), final.supervisor]
            if psutil.pid_exists(r.pid)
        ]
        down = fluxos("down", env=env)
    assert down.returncode == 0, down.stdout
    assert_all_gone(procs, timeout=1)
