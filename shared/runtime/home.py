"""The data directory of `fluxos up`: where each thing lives, and the platform's root secret.

<home>/nats/          embedded nats-server (JetStream store, config, log)
<home>/postgres/      embedded PostgreSQL (data directory, superuser password, log)
<home>/logs/          one log per service, and supervisor.log when detached
<home>/run/           state.json and the supervisor's lock (runtime only)
<home>/mail/          the dev mailbox: mail mimic's local SMTP sink received (a Maildir)
<home>/secret_key     FLUXOS_SECRET_KEY, generated once (0600)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HomeLayout:
    root: Path

    @classmethod
    def at(cls, root: Path) -> HomeLayout:
        # Children and later commands must agree on the path whatever their working directory.
        return cls(root.expanduser().resolve())

    @property
    def nats_dir(self) -> Path:
        return self.root / "nats"

    @property
    def postgres_dir(self) -> Path:
        return self.root / "postgres"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def lock_path(self) -> Path:
        return self.run_dir / "supervisor.lock"

    @property
    def mail_dir(self) -> Path:
        return self.root / "mail"

    @property
    def secret_key_path(self) -> Path:
        return self.root / "secret_key"

    @property
    def supervisor_log(self) -> Path:
        return self.logs_dir / "supervisor.log"

    def service_log(self, service: str) -> Path:
        return self.logs_dir / f"{service}.log"

    def create(self) -> None:
        # The home holds a secret and database credentials: only its owner may look inside.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for directory in (self.logs_dir, self.run_dir):
            directory.mkdir(mode=0o700, exist_ok=True)


def load_or_create_secret_key(path: Path) -> str:
    """The key stored at `path`, created on first use; never rewritten, so data stays readable."""
    with contextlib.suppress(FileNotFoundError):
        return _read_key(path)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; its key is the key
        return _read_key(path)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; restore it from a backup or set FLUXOS_SECRET_KEY")
    return key
