"""The inbox under test with the services it fronts, all real: inkpass, tentacle, NATS,
PostgreSQL, and HTTP through httpx against the inbox's own port.

People sign up and sign in through the inbox's API exactly as a browser would; the verification
code is read off the bus (inkpass asks mimic to email it; the test listens to that command).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from nats.aio.msg import Msg

from contracts.envelope import Envelope
from contracts.ids import new_id
from contracts.mimic.models import SendNotificationV1
from contracts.mimic.subjects import SEND
from inbox.app import build_app as build_inbox
from inbox.settings import InboxSettings
from inkpass.app import build_app as build_inkpass
from inkpass.settings import InkPassSettings
from shared.bus import Bus
from shared.db.urls import derive_service_database
from shared.runtime.postgres_server import PostgresServer
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService
from tentacle.app import build_app as build_tentacle
from tentacle.settings import TentacleSettings

PASSWORD = "correct horse battery staple"
FAST_HASHING: dict[str, Any] = {
    "argon2_memory_kib": 256,
    "argon2_time_cost": 1,
    "argon2_max_concurrency": 4,
}


class Mailbox:
    """Every email inkpass asks mimic to send, read off the bus."""

    def __init__(self) -> None:
        self.sent: list[SendNotificationV1] = []
        self._arrived = asyncio.Condition()

    async def on_msg(self, msg: Msg) -> None:
        mail = Envelope[SendNotificationV1].model_validate_json(msg.data).data
        async with self._arrived:
            self.sent.append(mail)
            self._arrived.notify_all()

    async def wait_for(self, to: str, kind: str, timeout: float = 10.0) -> SendNotificationV1:
        def found() -> SendNotificationV1 | None:
            for mail in reversed(self.sent):
                if mail.to.address == to and mail.metadata.get("email") == kind:
                    return mail
            return None

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: found() is not None), timeout)
        mail = found()
        assert mail is not None
        return mail


@dataclass
class Platform:
    inbox: ServiceApp
    inkpass: ServiceApp
    tentacle: ServiceApp
    bus: Bus
    mailbox: Mailbox
    start_inbox: Callable[..., Awaitable[ServiceApp]]
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.inbox.http_url is not None
        return self.inbox.http_url

    def client(self, app: ServiceApp | None = None, **kw: Any) -> httpx.AsyncClient:
        base = (app or self.inbox).http_url
        assert base is not None
        client = httpx.AsyncClient(base_url=base, timeout=20.0, **kw)
        self.clients.append(client)
        return client

    async def sign_up(self, label: str = "user") -> Person:
        email = f"{label}-{new_id()[-12:]}@example.com"
        http = self.client()
        answer = await http.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 202, answer.text
        mail = await self.mailbox.wait_for(email, "verify_email")
        verified = await http.post(
            "/api/v1/auth/verify-email", json={"email": email, "code": str(mail.variables["code"])}
        )
        assert verified.status_code == 200, verified.text
        person = Person(email=email, http=http, platform=self)
        await person.login()
        return person


@dataclass
class Person:
    email: str
    http: httpx.AsyncClient
    platform: Platform
    tokens: dict[str, Any] = field(default_factory=dict)

    async def login(self) -> None:
        answer = await self.http.post(
            "/api/v1/auth/login", json={"email": self.email, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["status"] == "authenticated"
        self.tokens = result["tokens"]
        self.http.headers["Authorization"] = f"Bearer {self.access}"

    @property
    def access(self) -> str:
        return str(self.tokens["access_token"])

    @property
    def org_id(self) -> str:
        return str(self.tokens["org_id"])

    @property
    def user_id(self) -> str:
        return str(self.tokens["user_id"])

    async def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        answer = await self.http.request(method, path, **kw)
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def create_task(self, goal: str = "count", plan: Any = None, **kw: Any) -> Any:
        body = {"goal": goal, **kw}
        if plan is not None:
            body["plan"] = plan
        return await self.ok("POST", "/api/v1/tasks", 201, json=body)

    async def wait_task(
        self, task_id: str, until: Callable[[Any], bool], timeout: float = 30.0
    ) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            detail = await self.ok("GET", f"/api/v1/tasks/{task_id}")
            if until(detail):
                return detail
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"task {task_id} stuck: {json.dumps(detail)[:2000]}")
            await asyncio.sleep(0.1)

    async def wait_messages(
        self, conversation_id: str, until: Callable[[list[Any]], bool], timeout: float = 30.0
    ) -> list[Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            answer = await self.http.get(f"/api/v1/conversations/{conversation_id}/messages")
            if answer.status_code == 200:
                found = answer.json()["messages"]
                if until(found):
                    return list(found)
            elif answer.status_code != 404:
                raise AssertionError(answer.text)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"messages of {conversation_id}: {answer.text[:2000]}")
            await asyncio.sleep(0.1)


def noop_plan(*steps: str, checkpoint_on: str | None = None) -> dict[str, Any]:
    out = []
    previous: str | None = None
    for step in steps or ("a", "b"):
        spec: dict[str, Any] = {"id": step, "agent": "noop", "inputs": {"v": step}}
        if previous is not None:
            spec["depends_on"] = [previous]
        if step == checkpoint_on:
            spec["checkpoint"] = {"type": "approval", "title": f"Run {step}?"}
        out.append(spec)
        previous = step
    return {"steps": out}


@pytest.fixture
async def bus(platform_settings: PlatformSettings) -> AsyncIterator[Bus]:
    client = await Bus(platform_settings, name="inbox-test").connect()
    yield client
    await client.close()


@pytest.fixture
def tentacle_overrides() -> dict[str, Any]:
    """Tentacle's settings for the module's tests (a module overrides this, e.g. with a model)."""
    return {}


@pytest.fixture
def inkpass_overrides() -> dict[str, Any]:
    """InkPass's settings for the module's tests (e.g. Google credentials of a stand-in)."""
    return {}


@pytest.fixture
async def platform(
    running_service: StartService,
    bus: Bus,
    tentacle_overrides: dict[str, Any],
    inkpass_overrides: dict[str, Any],
) -> AsyncIterator[Platform]:
    mailbox = Mailbox()
    sub = await bus.nc.subscribe(SEND.wildcard, cb=mailbox.on_msg)
    await bus.nc.flush()
    inkpass = await running_service(
        build_inkpass, InkPassSettings, **{**FAST_HASHING, **inkpass_overrides}
    )
    tentacle = await running_service(
        lambda s: build_tentacle(s),
        TentacleSettings,
        **{"timer_interval_seconds": 0.2, **tentacle_overrides},
    )

    async def start_inbox(**overrides: Any) -> ServiceApp:
        # Tests make hundreds of requests as one person; the rate-limit test sets its own.
        values: dict[str, Any] = {
            "sse_heartbeat_seconds": 1.0,
            "rate_limit_per_minute": 100_000,
            "rate_limit_burst": 10_000,
        }
        values.update(overrides)
        return await running_service(build_inbox, InboxSettings, **values)

    inbox = await start_inbox()
    world = Platform(inbox, inkpass, tentacle, bus, mailbox, start_inbox)
    yield world
    for client in world.clients:
        await client.aclose()
    await sub.unsubscribe()


async def connect_inbox_db(
    settings: PlatformSettings, server: PostgresServer
) -> asyncpg.Connection:
    """A connection of the test's own to inbox's database (as its owner: no row-level
    security), to look at or hold what the service wrote."""
    return await asyncpg.connect(server.url(derive_service_database(settings, "inbox").name))


@pytest.fixture
async def inbox_db(
    platform_settings: PlatformSettings, postgres_server: PostgresServer
) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect_inbox_db(platform_settings, postgres_server)
    yield conn
    await conn.close()
