"""Den on the real servers: a started service, a bus client acting for an org, and HTTP.

Parts and chunks are tiny here (4 KiB chunks, 16 KiB parts) so that small files already span
several parts and chunks: every boundary case of streaming and range reads is exercised with
kilobytes, not gigabytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

import httpx
import pytest

from contracts.den import subjects as s
from contracts.den.models import AuthorizeUploadV1, FileV1, UploadAuthorizationV1
from contracts.envelope import Actor, ActorKind
from contracts.model import ContractModel
from contracts.subject import Subject
from den.app import build_app, build_den
from den.service.context import Den
from den.settings import DenSettings
from shared.bus import Bus
from shared.bus.codec import decode
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)

CHUNK = 4096
PART = 4 * CHUNK
ORG = "org-acme"
OTHER_ORG = "org-rival"
USER = Actor(kind=ActorKind.USER, id="user-1")

SMALL = {
    "chunk_bytes": CHUNK,
    "part_bytes": PART,
    "publish_window": 4,
    "read_batch": 3,
    "max_upload_bytes": 1024 * 1024,
    "default_quota_bytes": 4 * 1024 * 1024,
    "reconcile_interval_s": 3600.0,
    "orphan_sweep_interval_s": 3600.0,
    "orphan_grace_s": 0.0,
    "writer_lease_s": 30.0,
}


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes that differ at every position (a misplaced chunk would show)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass
class Events(Generic[P]):
    subject: Subject[P, None]
    sub: Any

    async def next(self) -> P:
        msg = await self.sub.next_msg(timeout=30)  # generous: a loaded machine is slow
        return decode(self.subject, msg.data, strict=True, max_bytes=1 << 20).data


@dataclass
class DenClient:
    """What the inbox or an agent has: the bus (with an org) and HTTP."""

    app: ServiceApp
    bus: Bus
    http: httpx.AsyncClient
    subscriptions: list[Any] = field(default_factory=list)

    @property
    def base(self) -> str:
        assert self.app.http_url is not None
        return self.app.http_url

    async def ask(
        self,
        subject: Subject[P, R],
        payload: P,
        *,
        org: str | None = ORG,
        actor: Actor = USER,
    ) -> R:
        return await self.bus.request(subject, payload, org_id=org, actor=actor, timeout=30)

    async def stored_messages(self) -> int:
        """Messages in den's bucket (chunks and metadata): proof that nothing was stored."""
        info = await self.bus.js.stream_info("OBJ_den")
        return int(info.state.messages)

    async def subscribe(self, subject: Subject[P, None], org: str = ORG) -> Events[P]:
        sub = await self.bus.js.subscribe(subject.filter(org_id=org), ordered_consumer=True)
        self.subscriptions.append(sub)
        return Events(subject, sub)

    async def authorize(self, org: str = ORG, **fields: Any) -> UploadAuthorizationV1:
        result: UploadAuthorizationV1 = await self.ask(
            s.UPLOAD_AUTHORIZE, AuthorizeUploadV1(**fields), org=org
        )
        return result

    async def put(
        self, data: bytes, name: str = "file.bin", org: str = ORG, **fields: Any
    ) -> FileV1:
        auth = await self.authorize(org=org, name=name, **fields)
        response = await self.http.put(auth.put_url, content=data)
        assert response.status_code == 201, response.text
        return FileV1.model_validate(response.json())


def den_env(settings: PlatformSettings, **den: str) -> dict[str, str]:
    """The environment of a `python -m den` process on the test's servers."""
    assert settings.database_url is not None
    assert settings.secret_key is not None
    env = dict(os.environ)
    env.update(
        {
            "FLUXOS_NATS_URL": settings.nats_url,
            "FLUXOS_DATABASE_URL": settings.database_url,
            "FLUXOS_DATABASE_PREFIX": settings.database_prefix,
            "FLUXOS_SECRET_KEY": settings.secret_key.get_secret_value(),
            "DEN_HTTP_PORT": "0",
            **den,
        }
    )
    return env


class Clock:
    """Den's clock in a test: stands still at an instant the test sets."""

    def __init__(self) -> None:
        self.instant = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.instant

    def set(self, unix_seconds: int) -> None:
        self.instant = datetime.fromtimestamp(unix_seconds, UTC)

    def advance(self, seconds: float) -> None:
        self.instant += timedelta(seconds=seconds)


def den_of(client: DenClient) -> Den:
    """Another den over the same database and bus: what a second replica would be."""
    settings = client.app.settings
    assert isinstance(settings, DenSettings)
    return build_den(settings, client.app)


@pytest.fixture
async def den_factory(
    running_service: StartService, platform_settings: PlatformSettings
) -> AsyncIterator[Any]:
    clients: list[DenClient] = []

    async def start(clock: Callable[[], datetime] | None = None, **overrides: Any) -> DenClient:
        build = build_app if clock is None else partial(build_app, clock=clock)
        app = await running_service(build, DenSettings, **{**SMALL, **overrides})
        bus = await Bus(platform_settings, name="den-test").connect()
        http = httpx.AsyncClient(timeout=30)
        client = DenClient(app, bus, http)
        clients.append(client)
        return client

    yield start
    for client in clients:
        for sub in client.subscriptions:
            await sub.unsubscribe()
        await client.http.aclose()
        await client.bus.close()


@pytest.fixture
async def den(den_factory: Any) -> DenClient:
    client: DenClient = await den_factory()
    return client
