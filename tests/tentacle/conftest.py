"""Tentacle under test: the real service in-process, a caller on the bus, and helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.envelope import Actor, ActorKind
from contracts.ids import new_id
from contracts.tentacle.events import TaskEventV1
from contracts.tentacle.models import CreateTaskV1, GetTaskV1, TaskDetailV1, TaskStatus, TaskV1
from contracts.tentacle.plans import PlanV1
from contracts.tentacle.subjects import TASK_CREATE_RPC, TASK_GET, TASK_PROGRESSED
from shared.bus import Bus, RemoteError
from shared.bus.codec import decode
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService
from tentacle.app import build_app
from tentacle.domain.lifecycle import TERMINAL
from tentacle.settings import TentacleSettings
from tests.tentacle.site import Site

ORG = "acme"
OTHER_ORG = "globex"
USER = Actor(kind=ActorKind.USER, id="ada")


class Caller:
    """A service or person talking to tentacle over the bus, as one organisation."""

    def __init__(self, bus: Bus, org_id: str = ORG, actor: Actor = USER) -> None:
        self.bus = bus
        self.org_id = org_id
        self.actor = actor

    async def ask(self, subject: Any, payload: Any, *, timeout: float = 10.0) -> Any:
        return await self.bus.request(
            subject, payload, org_id=self.org_id, actor=self.actor, timeout=timeout
        )

    async def create(
        self, goal: str = "do it", plan: PlanV1 | dict[str, Any] | None = None, **kw: Any
    ) -> TaskV1:
        if isinstance(plan, dict):
            plan = PlanV1.model_validate(plan)
        request = CreateTaskV1(
            request_id=kw.pop("request_id", new_id()), goal=goal, plan=plan, **kw
        )
        result: TaskV1 = await self.ask(TASK_CREATE_RPC, request)
        return result

    async def get(self, task_id: str) -> TaskDetailV1:
        result: TaskDetailV1 = await self.ask(TASK_GET, GetTaskV1(task_id=task_id))
        return result

    async def wait(
        self,
        task_id: str,
        until: Callable[[TaskDetailV1], bool] | None = None,
        *,
        timeout: float = 20.0,
    ) -> TaskDetailV1:
        """Poll until the task satisfies `until` (default: finished)."""
        check = until or (lambda d: d.task.status in TERMINAL)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                detail = await self.get(task_id)
            except RemoteError as exc:  # not created yet (an asynchronous create)
                if exc.code != "tentacle.task_not_found":
                    raise
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"task {task_id} never appeared") from exc
                await asyncio.sleep(0.05)
                continue
            if check(detail):
                return detail
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"task {task_id} stuck: {detail.task.status} {detail.steps}")
            await asyncio.sleep(0.05)

    async def wait_status(
        self, task_id: str, status: TaskStatus, timeout: float = 20.0
    ) -> TaskDetailV1:
        return await self.wait(task_id, lambda d: d.task.status is status, timeout=timeout)


Start = Callable[..., Awaitable[ServiceApp]]


@pytest.fixture
async def start_tentacle(running_service: StartService) -> Start:
    async def start(**overrides: Any) -> ServiceApp:
        values: dict[str, Any] = {"timer_interval_seconds": 0.2}
        values.update(overrides)
        workspace = values.pop("workspace", None)
        return await running_service(
            lambda s: build_app(s, workspace=workspace), TentacleSettings, **values
        )

    return start


@pytest.fixture
async def tentacle(start_tentacle: Start) -> ServiceApp:
    return await start_tentacle()


@pytest.fixture
async def bus(platform_settings: PlatformSettings) -> AsyncIterator[Bus]:
    client = await Bus(platform_settings, name="tentacle-caller").connect()
    yield client
    await client.close()


@pytest.fixture
def caller(bus: Bus) -> Caller:
    return Caller(bus)


@pytest.fixture
def stranger(bus: Bus) -> Caller:
    return Caller(bus, OTHER_ORG, Actor(kind=ActorKind.USER, id="eve"))


async def lifecycle(bus: Bus, task_id: str | None = None, org_id: str = ORG) -> list[TaskEventV1]:
    """Every lifecycle event in the stream (of one task, or of the org), in stream order."""
    if task_id is not None:
        subject = TASK_PROGRESSED.filter(org_id=org_id, task_id=task_id)
    else:
        subject = TASK_PROGRESSED.filter(org_id=org_id)
    info = await bus.js.stream_info("TENTACLE_EVENTS")
    if not info.state.messages:
        return []
    sub = await bus.js.pull_subscribe(
        subject,
        durable=None,
        stream="TENTACLE_EVENTS",
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=5.0),
    )
    out: list[TaskEventV1] = []
    try:
        while True:
            try:
                batch = await sub.fetch(500, timeout=0.5)
            except (TimeoutError, NatsTimeout):
                break
            for msg in batch:
                incoming = decode(TASK_PROGRESSED, msg.data, strict=True, max_bytes=1 << 24)
                out.append(incoming.data)
                await msg.ack()
    finally:
        await sub.unsubscribe()
    return out


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    server = Site()
    await server.start()
    yield server
    await server.stop()
