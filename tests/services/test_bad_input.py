"""No malformed message on any subject a service serves can crash it.

The subjects are read from each service's router, so every handler a later change adds is
covered here without touching this file: requests get an error reply with a stable code,
JetStream messages are terminated and dead-lettered with the reason.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from nats.aio.msg import Msg
from nats.errors import NoRespondersError

from contracts.platform.errors import BusErrorCode
from contracts.platform.health import HealthCheckV1, HealthStatus
from shared.bus import Bus
from shared.bus.deadletter import list_dead_letters
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService
from tests.services.conftest import IDS, SERVICES, ServiceUnderTest
from tests.shared.bus.conftest import eventually

GARBAGE: list[tuple[bytes, set[str]]] = [
    (b"", {BusErrorCode.MALFORMED}),
    (b"\x00\xff\xfe binary", {BusErrorCode.MALFORMED}),
    (b"{not json", {BusErrorCode.MALFORMED}),
    (b"[]", {BusErrorCode.MALFORMED}),
    (b'{"meta": 1, "data": {}}', {BusErrorCode.MALFORMED}),
    (b'{"meta": {}, "data": {}}', {BusErrorCode.INVALID_PAYLOAD}),
    (
        b'{"meta": {"type": "SomethingV99", "message_id": "m"}, "data": {}}',
        {BusErrorCode.UNKNOWN_VERSION},
    ),
    (b'{"meta": {"type": "' + b"x" * 3_000_000 + b'"}}', {BusErrorCode.OVERSIZE}),
]


@pytest.fixture
async def probe(platform_settings: PlatformSettings) -> AsyncIterator[Bus]:
    bus = await Bus(platform_settings, name="probe").connect()
    yield bus
    await bus.close()


def _concrete(pattern: str) -> str:
    return ".".join("x" if token in ("*", ">") else token for token in pattern.split("."))


async def _ask(probe: Bus, subject: str, body: bytes) -> Msg:
    # "No responders" is what a request meets while the service's connection is being
    # re-established (a loaded machine, megabytes of garbage): ask again, as Bus.request does.
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            return await probe.nc.request(subject, body, timeout=5)
        except NoRespondersError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


@pytest.mark.parametrize("svc", SERVICES, ids=IDS)
async def test_garbage_on_every_served_subject_gets_a_coded_error(
    svc: ServiceUnderTest, running_service: StartService, probe: Bus
) -> None:
    app = await running_service(svc.build_app, svc.settings)
    assert app.router.rpcs, "every service serves at least its health check"
    for subject, _, _ in app.router.rpcs:
        for body, codes in GARBAGE:
            response = await _ask(probe, _concrete(subject.wildcard), body)
            reply = json.loads(response.data)
            assert reply["ok"] is False, subject
            assert reply["error"]["code"] in codes, (subject, body[:40], reply["error"])
    expected_letters = 0
    for spec, _ in app.router.consumers:
        for body, _codes in GARBAGE:
            await probe.js.publish(_concrete(spec.filter_subject), body)
            expected_letters += 1

    async def all_dead_lettered() -> bool:
        letters = await list_dead_letters(probe, service=svc.name, limit=1000)
        return len(letters) == expected_letters

    await eventually(all_dead_lettered)
    health = await probe.request(svc.health, HealthCheckV1())
    assert health.status is HealthStatus.OK
