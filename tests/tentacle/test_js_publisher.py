"""The orchestrator's JetStream publisher: a unit's messages sent in order with their acks
awaited together; success only once the stream has them, a clear error otherwise."""

from __future__ import annotations

import pytest

from shared.bus import Bus
from shared.bus.codec import OutboundMessage
from shared.bus.errors import BusUnavailable
from tentacle.adapters.js_publisher import PipelinedPublisher


def _message(
    n: int, *, subject: str = "pubtest.a", message_id: str | None = None
) -> OutboundMessage:
    message_id = message_id or f"m-{n}"
    return OutboundMessage(
        subject=subject,
        body=f'{{"n":{n}}}'.encode(),
        message_id=message_id,
        headers={"Nats-Msg-Id": message_id},
    )


@pytest.fixture
async def stream(bus: Bus) -> str:
    await bus.js.add_stream(name="PUBTEST", subjects=["pubtest.>"])
    return "PUBTEST"


async def test_messages_are_stored_in_order_before_it_returns(bus: Bus, stream: str) -> None:
    publish = PipelinedPublisher(bus)
    await publish([_message(n) for n in range(5)])
    await publish([_message(5)])
    info = await bus.js.stream_info(stream)
    assert info.state.messages == 6
    bodies = [(await bus.js.get_msg(stream, seq)).data for seq in range(1, 7)]
    assert bodies == [f'{{"n":{n}}}'.encode() for n in range(6)]


async def test_a_duplicate_is_acknowledged_and_stored_once(bus: Bus, stream: str) -> None:
    publish = PipelinedPublisher(bus)
    await publish([_message(1, message_id="same")])
    await publish([_message(2, message_id="same"), _message(3)])
    info = await bus.js.stream_info(stream)
    assert info.state.messages == 2


async def test_a_subject_no_stream_holds_fails_at_once(bus: Bus, stream: str) -> None:
    publish = PipelinedPublisher(bus, timeout_s=5)
    with pytest.raises(BusUnavailable):
        await publish([_message(1), _message(2, subject="nostream.b")])
    # What a stream did take stays taken (the outbox relay resends the rest, deduplicated).
    info = await bus.js.stream_info(stream)
    assert info.state.messages == 1
