"""Flux's replies as they are typed: every streamed event, straight to the org's open streams.

Deltas take this transient path and never the feed. A reply is hundreds of tokens; written to
the feed each would cost a transaction, a numbered row every reconnecting stream reads back,
and an announcement, all for text the reply's end carries whole anyway. So each replica
subscribes to the events itself (plain NATS: every replica hears every event, no stream needs a
particular replica) and writes them as SSE events without an id, which leaves Last-Event-ID on
the durable feed. What must outlast the connection (tool calls, results, approvals, the final
text) reaches the thread through `inbox.service.chat_project` as well, with the same message
ids as here, so a reconnecting or reloading client ends with the complete reply.
"""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts.tentacle.chat import CHAT_STREAMED, ChatEventV1
from inbox.domain.chat import chat_message_id
from inbox.service.context import Inbox
from inbox.service.live import Hub
from shared.bus.codec import DecodeError, decode
from shared.logging import get_logger

log = get_logger(__name__)

_SEEN = 8192


def chat_sse_body(event: ChatEventV1) -> bytes:
    data = json.dumps(
        {
            "id": chat_message_id(event.org_id, event.reply_id, event.seq),
            "conversation_id": event.conversation_id,
            "reply_id": event.reply_id,
            "message_id": event.message_id,
            "seq": event.seq,
            "kind": event.kind.value,
            "detail": event.detail.model_dump(mode="json"),
            "at": event.occurred_at.isoformat(),
        },
        separators=(",", ":"),
    )
    return f"event: chat\ndata: {data}\n\n".encode()


class ChatRelay:
    def __init__(self, inbox: Inbox, hub: Hub) -> None:
        self.inbox = inbox
        self.hub = hub
        self._sub: Subscription | None = None
        # A plain subscription can hear the same (reply, seq) twice (the chat contract says
        # so: keep the first), so the browser gets each event once.
        self._seen: OrderedDict[tuple[str, int], None] = OrderedDict()

    async def start(self) -> None:
        self._sub = await self.inbox.bus.nc.subscribe(CHAT_STREAMED.wildcard, cb=self._on_msg)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _on_msg(self, msg: Msg) -> None:
        try:
            event = decode(
                CHAT_STREAMED,
                msg.data,
                strict=False,
                max_bytes=self.inbox.settings.platform.max_message_bytes,
            ).data
        except DecodeError as exc:
            log.warning("inbox.bad_chat_event", subject=msg.subject, error=str(exc))
            return
        key = (event.reply_id, event.seq)
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > _SEEN:
            self._seen.popitem(last=False)
        if event.org_id in self.hub.streams:
            self.hub.relay(event.org_id, chat_sse_body(event))
