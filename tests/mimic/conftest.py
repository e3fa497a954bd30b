"""mimic on the real servers: a running service, a probe bus, and readers of what it published."""

from __future__ import annotations

import asyncio
import json
import mailbox
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from contracts.mimic.models import (
    GetNotificationV1,
    NotificationStatus,
    NotificationV1,
    RecipientV1,
    SendNotificationV1,
    TemplateRefV1,
    notification_id,
)
from contracts.mimic.streams import COMMANDS, EVENTS, WEBHOOKS
from contracts.mimic.subjects import NOTIFICATION_GET, SEND
from mimic.app import build_app
from mimic.settings import MimicSettings
from shared.bus import Bus
from shared.bus.deadletter import DeadLetterEntry, list_dead_letters
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService

ORG = "acme"
OTHER_ORG = "globex"


@pytest.fixture
async def probe(platform_settings: PlatformSettings) -> AsyncIterator[Bus]:
    bus = await Bus(platform_settings, name="mimic-probe").connect()
    yield bus
    await bus.close()


StartMimic = Callable[..., Awaitable[ServiceApp]]


@pytest.fixture
def start_mimic(running_service: StartService) -> StartMimic:
    async def start(**overrides: Any) -> ServiceApp:
        return await running_service(build_app, MimicSettings, **overrides)

    return start


@pytest.fixture
async def mimic(start_mimic: StartMimic) -> ServiceApp:
    return await start_mimic()


@pytest.fixture
def maildir(platform_settings: PlatformSettings) -> Path:
    return platform_settings.home / "mail"


def mail_in(directory: Path) -> list[bytes]:
    if not (directory / "cur").is_dir():
        return []
    box = mailbox.Maildir(directory, create=False)
    return [box.get_bytes(key) for key in box.iterkeys()]


@dataclass(frozen=True)
class Published:
    subject: str
    data: dict[str, Any]
    meta: dict[str, Any]


async def published(bus: Bus, stream: str, subject_filter: str) -> list[Published]:
    """Every message of `stream` matching `subject_filter`, oldest first."""
    try:
        info = await bus.js.stream_info(stream)
    except NotFoundError:
        return []
    if info.state.messages == 0:
        return []
    sub = await bus.js.pull_subscribe(
        subject_filter,
        stream=stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=5.0
        ),
    )
    out: list[Published] = []
    try:
        while True:
            try:
                batch = await sub.fetch(256, timeout=0.2)
            except TimeoutError:
                break
            for msg in batch:
                body = json.loads(msg.data)
                out.append(Published(msg.subject, body["data"], body["meta"]))
    finally:
        await sub.unsubscribe()
    return out


async def notification_events(bus: Bus, org: str = ORG) -> list[Published]:
    return await published(bus, EVENTS.name, f"mimic.v1.evt.notification.{org}.>")


async def notification_verbs(bus: Bus, count: int, org: str = ORG) -> list[str]:
    """The verbs of the first `count` notification events, once that many were published."""

    async def enough() -> bool:
        return len(await notification_events(bus, org)) >= count

    await eventually(enough)
    return [e.subject.rsplit(".", 1)[1] for e in await notification_events(bus, org)]


async def webhook_events(bus: Bus, org: str = ORG) -> list[Published]:
    return await published(bus, WEBHOOKS.name, f"mimic.v1.evt.webhook.{org}.>")


async def mimic_dead_letters(bus: Bus) -> list[DeadLetterEntry]:
    return await list_dead_letters(bus, service="mimic")


async def consumed(bus: Bus, durable: str = "mimic-notification-send") -> None:
    """Wait until the consumer has nothing pending or unacknowledged."""

    async def idle() -> bool:
        info = await bus.js.consumer_info(COMMANDS.name, durable)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(idle)


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def otp_email(key: str, *, to: str = "ada@example.com", code: str = "123456") -> SendNotificationV1:
    return SendNotificationV1(
        idempotency_key=key,
        to=RecipientV1(address=to, name="Ada"),
        template=TemplateRefV1(key="system.otp"),
        variables={"code": code, "expires_in_minutes": 10},
    )


async def send(bus: Bus, command: SendNotificationV1, *, org: str = ORG) -> str:
    await bus.publish(SEND, command, org_id=org)
    return notification_id(org, command.idempotency_key)


async def status_of(bus: Bus, nid: str, *, org: str = ORG) -> NotificationV1:
    return await bus.request(NOTIFICATION_GET, GetNotificationV1(notification_id=nid), org_id=org)


async def wait_status(
    bus: Bus, nid: str, *statuses: NotificationStatus, org: str = ORG, timeout: float = 10.0
) -> NotificationV1:
    found: list[NotificationV1] = []

    async def reached() -> bool:
        try:
            current = await status_of(bus, nid, org=org)
        except Exception:
            return False
        found[:] = [current]
        return current.status in statuses

    await eventually(reached, timeout=timeout)
    return found[0]
