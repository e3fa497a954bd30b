"""`<home>/run/state.json`: what a running platform tells other commands about itself.

Written by the supervisor (atomically, after every change worth knowing), read by `fluxos
status`, `fluxos down` and `fluxos up --detach`. Whether the supervisor is still alive is
never taken from this file but from the home's lock (see `lock.py`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

STATE_VERSION = 1


class Phase(StrEnum):
    STARTING = "starting"
    READY = "ready"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class ServiceStatus(StrEnum):
    STARTING = "starting"
    """Spawned, not yet answering its health check healthily."""
    RUNNING = "running"
    """Answered healthy at least once since it was last spawned."""
    BACKOFF = "backoff"
    """Exited; waiting before the next restart."""
    CRASH_LOOP = "crash-loop"
    """Exited again and again without staying up; still being restarted, more slowly."""
    STOPPED = "stopped"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ProcessRef(_Model):
    """A pid with its start time, so a recycled pid is never mistaken for our process."""

    pid: int
    create_time: float


class ServerState(_Model):
    url: str
    embedded: bool
    process: ProcessRef | None = None
    restarts: int = 0


class ServiceState(_Model):
    module: str
    status: ServiceStatus = ServiceStatus.STARTING
    process: ProcessRef | None = None
    restarts: int = 0
    consecutive_failures: int = 0
    last_exit_code: int | None = None
    http_port: int | None = None
    http_url: str | None = None
    log: str


class RuntimeState(_Model):
    version: int = STATE_VERSION
    home: str
    phase: Phase = Phase.STARTING
    error: str | None = None
    supervisor: ProcessRef
    started_at: datetime
    ready_at: datetime | None = None
    nats: ServerState | None = None
    postgres: ServerState | None = None
    services: dict[str, ServiceState] = Field(default_factory=dict)
    inbox_url: str | None = None

    def children(self) -> list[ProcessRef]:
        """Every process the supervisor started, in stopping order."""
        refs = [s.process for s in self.services.values() if s.process is not None]
        refs += [s.process for s in (self.postgres, self.nats) if s is not None and s.process]
        return refs


def write_state(path: Path, state: RuntimeState) -> None:
    """Replace the file in one rename, so a reader never sees half of it.

    0600: it holds the database administrator's URL.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(state.model_dump_json(indent=2))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_state(path: Path) -> RuntimeState | None:
    try:
        return RuntimeState.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValidationError):
        # A file from another version is as good as none: the lock says whether anything runs.
        return None
