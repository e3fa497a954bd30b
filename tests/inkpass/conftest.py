"""A real inkpass (real NATS, real PostgreSQL), a bus client, a mailbox and the database.

Tests use a low argon2 cost through the service's own settings (production defaults are
untouched), so a sign-in costs milliseconds here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import pytest
from nats.aio.msg import Msg
from pydantic import SecretStr

from contracts.envelope import Envelope
from contracts.ids import new_id
from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    AcceptInvitationV1,
    InviteMemberV1,
    LoginResultV1,
    LoginStatus,
    LoginV1,
    RegisterUserV1,
    TokenPairV1,
    VerifyEmailV1,
)
from contracts.inkpass.types import Role
from contracts.mimic.models import SendNotificationV1
from contracts.mimic.subjects import SEND
from contracts.model import ContractModel
from contracts.subject import Subject
from inkpass.app import build_app
from inkpass.settings import InkPassSettings
from shared.bus import Bus, RemoteError
from shared.db.urls import derive_service_database
from shared.runtime.postgres_server import PostgresServer
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService

FAST_HASHING: dict[str, Any] = {
    "argon2_memory_kib": 256,
    "argon2_time_cost": 1,
    "argon2_max_concurrency": 4,
}
PASSWORD = "correct horse battery staple"


StartInkPass = Callable[..., Awaitable[ServiceApp]]


@pytest.fixture
async def start_inkpass(running_service: StartService) -> StartInkPass:
    async def start(**overrides: Any) -> ServiceApp:
        return await running_service(build_app, InkPassSettings, **{**FAST_HASHING, **overrides})

    return start


@pytest.fixture
async def inkpass(start_inkpass: StartInkPass) -> ServiceApp:
    return await start_inkpass()


@pytest.fixture
async def bus(platform_settings: PlatformSettings) -> AsyncIterator[Bus]:
    client = await Bus(platform_settings, name="inkpass-test").connect()
    yield client
    await client.close()


class Mailbox:
    """Every email inkpass asks mimic to send (mimic's SEND command, read off the bus)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str | None, SendNotificationV1]] = []
        self._arrived = asyncio.Condition()

    async def on_msg(self, msg: Msg) -> None:
        envelope = Envelope[SendNotificationV1].model_validate_json(msg.data)
        async with self._arrived:
            self.sent.append((envelope.meta.org_id, envelope.data))
            self._arrived.notify_all()

    async def wait_for(
        self, to: str, kind: str, *, after: int = 0, timeout: float = 5.0
    ) -> SendNotificationV1:
        """The first email of `kind` (inkpass's label, echoed in mimic's metadata) to `to`."""

        def found() -> SendNotificationV1 | None:
            for _, mail in self.sent[after:]:
                if mail.to.address == to and mail.metadata.get("email") == kind:
                    return mail
            return None

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: found() is not None), timeout)
        mail = found()
        assert mail is not None
        return mail

    async def code(self, to: str, kind: str, *, after: int = 0) -> SecretStr:
        mail = await self.wait_for(to, kind, after=after)
        return SecretStr(str(mail.variables["code"]))

    def count(self, to: str, kind: str | None = None) -> int:
        return sum(
            1
            for _, m in self.sent
            if m.to.address == to and (kind is None or m.metadata.get("email") == kind)
        )


@pytest.fixture
async def mailbox(bus: Bus) -> AsyncIterator[Mailbox]:
    box = Mailbox()
    sub = await bus.nc.subscribe(SEND.wildcard, cb=box.on_msg)
    await bus.nc.flush()
    yield box
    await sub.unsubscribe()


class Db:
    """A superuser connection to inkpass's database (every tenant visible), for assertions.

    Opened on first use, so a test may start its inkpass with whatever settings it needs first.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: asyncpg.Connection | None = None

    async def _c(self) -> asyncpg.Connection:
        if self._conn is None:
            self._conn = await asyncpg.connect(self._url)
        return self._conn

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return list(await (await self._c()).fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await (await self._c()).fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await (await self._c()).fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return str(await (await self._c()).execute(query, *args))

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()


@pytest.fixture
async def db(
    platform_settings: PlatformSettings, postgres_server: PostgresServer
) -> AsyncIterator[Db]:
    name = derive_service_database(platform_settings, "inkpass").name
    conn = Db(postgres_server.url(name))
    yield conn
    await conn.close()


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    tokens: TokenPairV1

    @property
    def org_id(self) -> str:
        return self.tokens.org_id

    @property
    def access(self) -> SecretStr:
        return self.tokens.access_token

    @property
    def refresh(self) -> SecretStr:
        return self.tokens.refresh_token


def new_email(label: str = "user") -> str:
    return f"{label}-{new_id()[-12:]}@example.com"


async def register(bus: Bus, mailbox: Mailbox, email: str, password: str = PASSWORD) -> str:
    await bus.request(s.REGISTER, RegisterUserV1(email=email, password=SecretStr(password)))
    code = await mailbox.code(email, "verify_email")
    verified = await bus.request(s.VERIFY_EMAIL, VerifyEmailV1(email=email, code=code))
    return verified.user_id


async def login(bus: Bus, email: str, password: str = PASSWORD, **extra: Any) -> LoginResultV1:
    return await bus.request(s.LOGIN, LoginV1(email=email, password=SecretStr(password), **extra))


async def tokens(bus: Bus, email: str, password: str = PASSWORD, **extra: Any) -> TokenPairV1:
    result = await login(bus, email, password, **extra)
    assert result.status is LoginStatus.AUTHENTICATED
    assert result.tokens is not None
    return result.tokens


async def new_account(bus: Bus, mailbox: Mailbox, label: str = "user") -> Account:
    email = new_email(label)
    user_id = await register(bus, mailbox, email)
    return Account(email, PASSWORD, user_id, await tokens(bus, email))


async def remote_error(call: Awaitable[Any]) -> RemoteError:
    """The coded error a request ends with (the test fails if it succeeds)."""
    try:
        await call
    except RemoteError as exc:
        return exc
    raise AssertionError("the request succeeded but should have been refused")


# Tables whose content an attack must leave unchanged (counters and the audit trail are
# expected to record the attempt, so they are compared separately where it matters).
STATE_TABLES = (
    "users",
    "orgs",
    "memberships",
    "invitations",
    "sessions",
    "api_keys",
    "policies",
    "otps",
    "totp_factors",
    "backup_codes",
    "oauth_identities",
)


async def snapshot(conn: Db) -> dict[str, list[str]]:
    state: dict[str, list[str]] = {}
    for table in STATE_TABLES:
        rows = await conn.fetch(f"select to_jsonb(t) as row from {table} t")  # noqa: S608
        state[table] = sorted(json.dumps(json.loads(r["row"]), sort_keys=True) for r in rows)
    return state


async def raw_request(
    bus: Bus, subject: Subject[Any, Any], payload: ContractModel, **changes: Any
) -> dict[str, Any]:
    """Send `payload` with fields changed or added behind the model's back; the raw reply."""
    msg = bus.message(subject, payload)
    body = json.loads(msg.body)
    body["data"].update(changes)
    response = await bus.request_raw(msg.subject, json.dumps(body).encode(), timeout=5)
    reply: dict[str, Any] = json.loads(response)
    return reply


async def join_as(
    bus: Bus, mailbox: Mailbox, owner: Account, role: str, label: str = "member"
) -> Account:
    """A new person invited into `owner`'s org with `role`, signed in there."""
    member = await new_account(bus, mailbox, label)
    invitation = await bus.request(
        s.INVITE_MEMBER,
        InviteMemberV1(access_token=owner.access, email=member.email, role=Role(role)),
    )
    mail = await mailbox.wait_for(member.email, "invitation")
    link = parse_qs(urlparse(str(mail.variables["accept_url"])).query)
    await bus.request(
        s.ACCEPT_INVITATION,
        AcceptInvitationV1(
            access_token=member.access,
            org_id=invitation.org_id,
            invitation_id=invitation.invitation_id,
            token=SecretStr(link["token"][0]),
        ),
    )
    member.tokens = await tokens(bus, member.email, org_id=owner.org_id)
    return member
