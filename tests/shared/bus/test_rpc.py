"""Request-reply on a real nats-server: typed replies, stable error codes, never a crash."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from contracts.platform.errors import BusErrorCode
from shared.bus import Bus, BusTimeout, BusUnavailable, RemoteError, Request, RpcServer
from shared.errors import CodedPermanentError, CodedTransientError
from tests.shared.bus.conftest import PRICE, PriceQueryV1, PriceV1


async def price(query: PriceQueryV1, request: Request) -> PriceV1:
    if query.item == "unobtainium":
        raise CodedPermanentError("shop.unknown_item", "we do not sell unobtainium")
    if query.item == "busy":
        raise CodedTransientError("shop.catalogue_busy", "catalogue is reindexing")
    if query.item == "bug":
        raise KeyError("secret internal detail")
    if query.item == "slow":
        await asyncio.sleep(2)
    return PriceV1(item=query.item, cents=len(query.item) * 100)


@pytest.fixture
async def server(bus: Bus) -> AsyncIterator[RpcServer[PriceQueryV1, PriceV1]]:
    srv = RpcServer(bus, PRICE, price, queue="shop")
    await srv.start()
    yield srv
    await srv.stop(grace=1)


async def test_a_request_gets_a_typed_reply(bus: Bus, server: object) -> None:
    reply = await bus.request(PRICE, PriceQueryV1(item="bolt"), org_id="acme")
    assert reply == PriceV1(item="bolt", cents=400)


@pytest.mark.parametrize(
    ("item", "code", "retryable"),
    [
        ("unobtainium", "shop.unknown_item", False),
        ("busy", "shop.catalogue_busy", True),
        ("bug", BusErrorCode.INTERNAL.value, True),
    ],
)
async def test_handler_errors_come_back_with_their_code(
    bus: Bus, server: object, item: str, code: str, retryable: bool
) -> None:
    with pytest.raises(RemoteError) as caught:
        await bus.request(PRICE, PriceQueryV1(item=item))
    assert caught.value.code == code
    assert caught.value.retryable is retryable
    assert "secret internal detail" not in caught.value.message


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\xff\xfe garbage", BusErrorCode.MALFORMED),
        (b'"just a string"', BusErrorCode.MALFORMED),
        (b'{"meta": {"type": "PriceQueryV1"}, "data": {}}', BusErrorCode.INVALID_PAYLOAD),
        ("version", BusErrorCode.UNKNOWN_VERSION),
        ("oversize", BusErrorCode.OVERSIZE),
    ],
)
async def test_malformed_requests_get_an_error_reply(
    bus: Bus, server: object, body: bytes | str, code: BusErrorCode
) -> None:
    good = bus.message(PRICE, PriceQueryV1(item="nut"))
    if body == "version":
        raw = good.body.replace(b"PriceQueryV1", b"PriceQueryV7")
    elif body == "oversize":
        raw = good.body.replace(b'"nut"', b'"' + b"n" * bus.settings.max_message_bytes + b'"')
    else:
        assert isinstance(body, bytes)
        raw = body
    response = await bus.request_raw(good.subject, raw, timeout=5)
    reply = json.loads(response)
    assert reply["ok"] is False
    assert reply["error"]["code"] == code
    # The server is still answering.
    assert (await bus.request(PRICE, PriceQueryV1(item="nut"))).cents == 300


async def test_nobody_serving_is_unavailable_not_a_hang(bus: Bus) -> None:
    with pytest.raises(BusUnavailable) as caught:
        await bus.request(PRICE, PriceQueryV1(item="bolt"), timeout=2)
    assert caught.value.code == BusErrorCode.UNAVAILABLE


async def test_a_slow_reply_times_out(bus: Bus, server: object) -> None:
    with pytest.raises(BusTimeout) as caught:
        await bus.request(PRICE, PriceQueryV1(item="slow"), timeout=0.2)
    assert caught.value.code == BusErrorCode.TIMEOUT


async def test_requests_are_served_concurrently(bus: Bus, server: object) -> None:
    started = asyncio.get_running_loop().time()
    replies = await asyncio.gather(
        *(bus.request(PRICE, PriceQueryV1(item="slow"), timeout=5) for _ in range(20))
    )
    assert len(replies) == 20
    assert asyncio.get_running_loop().time() - started < 4


async def test_the_reply_belongs_to_the_request_call(bus: Bus, server: object) -> None:
    msg = bus.message(PRICE, PriceQueryV1(item="cog"), org_id="acme")
    response = await bus.request_raw(msg.subject, msg.body, timeout=5)
    request_meta = json.loads(msg.body)["meta"]
    reply_meta = json.loads(response)["meta"]
    assert reply_meta["call_id"] == request_meta["call_id"]
    assert reply_meta["root_call_id"] == request_meta["root_call_id"]
    assert reply_meta["org_id"] == "acme"
    assert reply_meta["type"] == "PriceV1"


async def test_a_request_waits_for_a_responder_that_arrives_in_time(bus: Bus) -> None:
    # A service restarting (or just subscribing) is waited for, not reported down:
    # "no responders" means nobody received the request, so asking again is safe.
    late = RpcServer(bus, PRICE, price, queue="shop")
    pending = asyncio.create_task(bus.request(PRICE, PriceQueryV1(item="gear"), timeout=5))
    await asyncio.sleep(0.3)
    assert not pending.done()
    await late.start()
    try:
        assert (await pending).cents == 400
    finally:
        await late.stop(grace=1)
