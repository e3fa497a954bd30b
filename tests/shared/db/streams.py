"""Reading back what reached the test stream."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext

from contracts.ids import new_id
from shared.bus.codec import HEADER_MSG_ID, OutboundMessage
from tests.shared.db.conftest import STREAM


@dataclass(frozen=True)
class Stored:
    subject: str
    body: bytes
    headers: dict[str, str]


async def stream_messages(js: JetStreamContext) -> list[Stored]:
    info = await js.stream_info(STREAM)
    first, last = info.state.first_seq, info.state.last_seq
    if info.state.messages == 0:
        return []
    stored = []
    for seq in range(first, last + 1):
        msg = await js.get_msg(STREAM, seq)
        stored.append(Stored(msg.subject or "", msg.data or b"", dict(msg.headers or {})))
    return stored


def message(subject: str, body: str | None = None) -> OutboundMessage:
    message_id = new_id()
    return OutboundMessage(
        subject=subject,
        body=(body or subject).encode(),
        message_id=message_id,
        headers={HEADER_MSG_ID: message_id, "Fluxos-Test": "kept"},
    )
