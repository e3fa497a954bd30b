"""Identity: token and key verification, revocation reach, sign-in, against the raw floor.

inkpass runs as it does in production (`python -m inkpass`, its own process, production argon2
parameters) on a real nats-server and PostgreSQL started for the run; this process is the client
and, for local verification and revocations, "another service". The floor is measured in the
same run: a raw nats-py request to a raw responder in another process (the least any bus round
trip costs) and a `select 1` on PostgreSQL.

* verify_rpc: `inkpass.v1.rpc.token.verify` (signature, claims, revocation cache, and the session
  read from PostgreSQL).
* local_verify: `shared.auth.LocalVerifier.verify` in this process (no I/O).
* api_key_verify: `inkpass.v1.rpc.apikey.verify` with a warm cache.
* revocation_visible: from sending a logout to this process's verifier refusing the token (the
  logout's own commit and publish included).
* login: a full password sign-in, argon2-bound by design.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
from nats.aio.msg import Msg
from pydantic import SecretStr

from bench.harness import nats_server, percentile, report, summary
from contracts.envelope import Envelope
from contracts.inkpass import HEALTH
from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    CreateApiKeyV1,
    LoginV1,
    LogoutV1,
    RegisterUserV1,
    SwitchOrgV1,
    TokenPairV1,
    VerifyApiKeyV1,
    VerifyEmailV1,
    VerifyTokenV1,
)
from contracts.mimic.models import SendNotificationV1
from contracts.mimic.subjects import SEND
from contracts.platform.health import HealthCheckV1, HealthStatus
from shared.auth import LocalVerifier
from shared.bus import Bus, BusUnavailable
from shared.runtime.postgres_server import PostgresServer
from shared.settings import PlatformSettings

RPC_SAMPLES = 1000
LOGINS = 20
REVOCATIONS = 200
LOCAL_SECONDS = 1.0
RAW_ECHO = "bench.raw.echo"
PASSWORD = "correct horse battery staple"  # noqa: S105 - the benchmark's own test account

_ECHO = f"""
import asyncio, nats
async def main():
    nc = await nats.connect({{url!r}})
    async def echo(msg):
        await nc.publish(msg.reply, msg.data)
    await nc.subscribe({RAW_ECHO!r}, cb=echo)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    with tempfile.TemporaryDirectory(prefix="fluxos-bench-pg-") as tmp:
        Path(tmp).chmod(0o711)
        server = PostgresServer(base_dir=Path(tmp) / "postgres")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextlib.asynccontextmanager
async def child(args: list[str], env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def timed(call: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def wait_healthy(bus: Bus) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(BusUnavailable):
            health = await bus.request(HEALTH, HealthCheckV1(), timeout=1)
            if health.status is HealthStatus.OK:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError("inkpass did not become healthy")


class Inbox:
    """The verification codes inkpass asks mimic to send."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self._arrived = asyncio.Condition()

    async def on_msg(self, msg: Msg) -> None:
        mail = Envelope[SendNotificationV1].model_validate_json(msg.data).data
        if "code" in mail.variables:
            async with self._arrived:
                self.codes[mail.to.address] = str(mail.variables["code"])
                self._arrived.notify_all()

    async def code(self, email: str) -> str:
        async with self._arrived:
            await self._arrived.wait_for(lambda: email in self.codes)
        return self.codes.pop(email)


async def sign_up(bus: Bus, inbox: Inbox) -> tuple[str, TokenPairV1]:
    email = f"bench-{secrets.token_hex(4)}@example.com"
    await bus.request(s.REGISTER, RegisterUserV1(email=email, password=SecretStr(PASSWORD)))
    code = await asyncio.wait_for(inbox.code(email), 10)
    await bus.request(s.VERIFY_EMAIL, VerifyEmailV1(email=email, code=SecretStr(code)))
    result = await bus.request(s.LOGIN, LoginV1(email=email, password=SecretStr(PASSWORD)))
    assert result.tokens is not None
    return email, result.tokens


async def revocation_samples(bus: Bus, tokens: TokenPairV1, verifier: LocalVerifier) -> list[float]:
    seen: dict[str, asyncio.Event] = {}

    def heard(ids: tuple[str, ...]) -> None:
        for sid in ids:
            event = seen.get(sid)
            if event is not None:
                event.set()

    verifier.cache.listeners.append(heard)
    samples = []
    for _ in range(REVOCATIONS):
        pair = await bus.request(
            s.SWITCH_ORG, SwitchOrgV1(access_token=tokens.access_token, org_id=tokens.org_id)
        )
        verifier.verify(pair.access_token.get_secret_value())
        seen[pair.session_id] = event = asyncio.Event()
        started = time.perf_counter()
        logout = asyncio.create_task(bus.request(s.LOGOUT, LogoutV1(token=pair.refresh_token)))
        await asyncio.wait_for(event.wait(), 5)
        samples.append((time.perf_counter() - started) * 1000)
        await logout
    return samples


def local_rate(verifier: LocalVerifier, token: str) -> float:
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < LOCAL_SECONDS:
        for _ in range(200):
            verifier.verify(token)
        count += 200
    return count / (time.perf_counter() - started)


async def run() -> dict[str, float | int | str]:
    with nats_server() as nats, postgres_server() as pg:
        platform = PlatformSettings(
            nats_url=nats.url,
            database_url=pg.url(),
            database_prefix="bench",
            secret_key=SecretStr(secrets.token_urlsafe(48)),
            log_level="WARNING",
        )
        assert platform.secret_key is not None
        env = {
            "FLUXOS_NATS_URL": nats.url,
            "FLUXOS_DATABASE_URL": pg.url(),
            "FLUXOS_DATABASE_PREFIX": "bench",
            "FLUXOS_SECRET_KEY": platform.secret_key.get_secret_value(),
            "FLUXOS_LOG_LEVEL": "WARNING",
        }
        async with (
            child(["-m", "inkpass"], env),
            child(["-c", _ECHO.replace("{url!r}", repr(nats.url))], {}) as echo,
        ):
            assert echo.stdout is not None
            await asyncio.wait_for(echo.stdout.readline(), 30)
            bus = await Bus(platform, name="bench-client").connect()
            inbox = Inbox()
            await bus.nc.subscribe(SEND.wildcard, cb=inbox.on_msg)
            await wait_healthy(bus)
            verifier = LocalVerifier.from_bus(bus)
            await verifier.start()
            email, tokens = await sign_up(bus, inbox)
            key = await bus.request(
                s.CREATE_API_KEY,
                CreateApiKeyV1(access_token=tokens.access_token, name="bench", scopes=["den.*"]),
            )
            db = await asyncpg.connect(pg.url())
            body = b"x" * len(VerifyTokenV1(token=tokens.access_token).model_dump_json())

            async def raw_rpc() -> None:
                await bus.nc.request(RAW_ECHO, body, timeout=5)

            async def pg_select() -> None:
                await db.fetchval("select 1")

            async def verify_rpc() -> None:
                await bus.request(s.VERIFY_TOKEN, VerifyTokenV1(token=tokens.access_token))

            async def verify_key() -> None:
                await bus.request(s.VERIFY_API_KEY, VerifyApiKeyV1(key=key.secret))

            async def login() -> None:
                await bus.request(s.LOGIN, LoginV1(email=email, password=SecretStr(PASSWORD)))

            for call in (raw_rpc, pg_select, verify_rpc, verify_key):
                await timed(call, 100)  # warm-up: connections, caches, JIT-free but lazy paths
            series = {
                "raw_rpc": await timed(raw_rpc, RPC_SAMPLES),
                "pg": await timed(pg_select, RPC_SAMPLES),
                "verify_rpc": await timed(verify_rpc, RPC_SAMPLES),
                "api_key_verify": await timed(verify_key, RPC_SAMPLES),
                "login": await timed(login, LOGINS),
            }
            local = local_rate(verifier, tokens.access_token.get_secret_value())
            revocations = await revocation_samples(bus, tokens, verifier)
            await db.close()
            await verifier.stop()
            await bus.close()

    stats = {name: summary(samples) for name, samples in series.items()}
    result: dict[str, float | int | str] = {
        "verify_rpc_p50_ms": stats["verify_rpc"]["p50"],
        "verify_rpc_p99_ms": stats["verify_rpc"]["p99"],
        "local_verify_per_s": round(local),
        "api_key_verify_p50_ms": stats["api_key_verify"]["p50"],
        "api_key_verify_p99_ms": stats["api_key_verify"]["p99"],
        "revocation_visible_p50_ms": round(percentile(revocations, 50), 3),
        "revocation_visible_p99_ms": round(percentile(revocations, 99), 3),
        "revocation_visible_max_ms": round(max(revocations), 3),
        "login_p50_ms": stats["login"]["p50"],
        "raw_rpc_p50_ms": stats["raw_rpc"]["p50"],
        "pg_select_p50_ms": stats["pg"]["p50"],
        "verify_rpc_over_floor": round(
            stats["verify_rpc"]["p50"] / (stats["raw_rpc"]["p50"] + stats["pg"]["p50"]), 3
        ),
        "api_key_verify_over_raw_rpc": round(
            stats["api_key_verify"]["p50"] / stats["raw_rpc"]["p50"], 3
        ),
        "samples": RPC_SAMPLES,
        "target_api_key_verify_p50_ms": 1.0,
        "target_revocation_visible_ms": 100.0,
    }
    return result


def main() -> int:
    try:
        import uvloop

        result = uvloop.run(run())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        result = asyncio.run(run())
    report(result)
    return 0
