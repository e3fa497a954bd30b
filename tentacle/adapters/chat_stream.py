"""What the chat events stream holds of a reply (JetStream, read directly)."""

from __future__ import annotations

from nats.js.errors import NotFoundError

from contracts.tentacle.chat import CHAT_EVENTS, CHAT_STREAMED
from shared.bus import Bus
from shared.bus.codec import decode


async def last_streamed_seq(bus: Bus, org_id: str, conversation_id: str, reply_id: str) -> int:
    """The seq of the reply's latest event on the stream (0 if its latest is not there).

    Deltas go out without a database write each, so after a worker stopped mid-round the
    stream, not the reply's row, knows the last number used; one reply streams per
    conversation at a time, so the conversation's last event is it.
    """
    subject = CHAT_STREAMED.filter(org_id=org_id, conversation_id=conversation_id)
    try:
        msg = await bus.js.get_last_msg(CHAT_EVENTS.name, subject)
    except NotFoundError:
        return 0
    if not msg.data:
        return 0
    event = decode(
        CHAT_STREAMED, msg.data, strict=False, max_bytes=bus.settings.max_message_bytes
    ).data
    return event.seq if event.reply_id == reply_id else 0
