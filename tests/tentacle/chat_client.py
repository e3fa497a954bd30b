"""The inbox's side of Flux, for tests: send messages, follow the streamed events, cancel,
answer approvals and read the history, over the real bus."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts.envelope import Actor
from contracts.ids import new_id
from contracts.tentacle.chat import (
    CHAT_CANCEL,
    CHAT_HISTORY,
    CHAT_RESPOND,
    CHAT_SEND,
    CHAT_STREAMED,
    CancelChatReplyV1,
    ChatEventKind,
    ChatEventV1,
    ChatHistoryV1,
    ChatReplyV1,
    GetChatHistoryV1,
    RespondChatApprovalV1,
    SendChatMessageV1,
    chat_reply_id,
)
from shared.bus import Bus
from shared.bus.codec import decode

ENDS = {
    ChatEventKind.APPROVAL_NEEDED,
    ChatEventKind.DONE,
    ChatEventKind.CANCELLED,
    ChatEventKind.ERROR,
}


class ChatClient:
    def __init__(self, bus: Bus, org_id: str, actor: Actor, conversation_id: str) -> None:
        self.bus = bus
        self.org_id = org_id
        self.actor = actor
        self.conversation_id = conversation_id
        self.events: dict[str, list[ChatEventV1]] = defaultdict(list)
        self._sub: Subscription | None = None
        self._arrived = asyncio.Event()
        self.collisions: list[tuple[ChatEventV1, ChatEventV1]] = []
        """Two different events numbered alike: a broken sequence."""

    async def __aenter__(self) -> ChatClient:
        subject = CHAT_STREAMED.filter(org_id=self.org_id, conversation_id=self.conversation_id)
        self._sub = await self.bus.nc.subscribe(subject, cb=self._on)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()

    async def _on(self, msg: Msg) -> None:
        event = decode(CHAT_STREAMED, msg.data, strict=True, max_bytes=1 << 24).data
        # A plain subscriber can see an event twice (the outbox relay may publish a row the
        # writer published already; JetStream keeps one, core NATS delivers both): seq tells.
        same = [e for e in self.events[event.reply_id] if e.seq == event.seq]
        if same:
            if same[0].detail != event.detail:
                self.collisions.append((same[0], event))
            return
        self.events[event.reply_id].append(event)
        self._arrived.set()

    async def send(self, text: str, message_id: str | None = None) -> str:
        """Send a message; the id of its reply."""
        message_id = message_id or new_id()
        await self.bus.publish(
            CHAT_SEND,
            SendChatMessageV1(
                conversation_id=self.conversation_id, message_id=message_id, text=text
            ),
            org_id=self.org_id,
            actor=self.actor,
        )
        return chat_reply_id(self.org_id, message_id)

    async def respond(self, reply_id: str, approval_id: str, approved: bool, **kw: Any) -> None:
        await self.bus.publish(
            CHAT_RESPOND,
            RespondChatApprovalV1(
                conversation_id=self.conversation_id,
                reply_id=reply_id,
                approval_id=approval_id,
                approved=approved,
                **kw,
            ),
            org_id=self.org_id,
            actor=self.actor,
        )

    async def cancel(self, reply_id: str | None = None) -> ChatReplyV1:
        result: ChatReplyV1 = await self.bus.request(
            CHAT_CANCEL,
            CancelChatReplyV1(conversation_id=self.conversation_id, reply_id=reply_id),
            org_id=self.org_id,
            actor=self.actor,
            timeout=10,
        )
        return result

    async def history(self, conversation_id: str | None = None) -> ChatHistoryV1:
        result: ChatHistoryV1 = await self.bus.request(
            CHAT_HISTORY,
            GetChatHistoryV1(conversation_id=conversation_id or self.conversation_id),
            org_id=self.org_id,
            actor=self.actor,
            timeout=10,
        )
        return result

    def kinds(self, reply_id: str) -> list[ChatEventKind]:
        return [e.kind for e in sorted(self.events[reply_id], key=lambda e: e.seq)]

    async def until(
        self,
        reply_id: str,
        kinds: set[ChatEventKind] | None = None,
        *,
        count: int = 1,
        timeout: float = 60.0,
    ) -> list[ChatEventV1]:
        """Wait until the reply has `count` events of `kinds` (default: an end); its events."""
        wanted = kinds or ENDS
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            got = sorted(self.events[reply_id], key=lambda e: e.seq)
            if sum(1 for e in got if e.kind in wanted) >= count:
                return got
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(
                    f"reply {reply_id} never reached {wanted}: {self.kinds(reply_id)}"
                )
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(left, 1.0))


def text_of(events: list[ChatEventV1]) -> str:
    return "".join(e.detail.text for e in events if e.detail.kind == "delta")


def tool_results(events: list[ChatEventV1]) -> list[Any]:
    return [e.detail for e in events if e.detail.kind == "tool_result"]
