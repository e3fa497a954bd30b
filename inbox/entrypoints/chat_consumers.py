"""Bus subscriber: Flux's reply events in, the chat projection's use case, ack."""

from __future__ import annotations

from contracts.inbox.streams import CHAT_CONSUMER
from contracts.tentacle.chat import ChatEventV1
from inbox.service.chat_project import project_chat
from inbox.service.context import Inbox
from shared.bus import Delivery, Router


def register(router: Router, inbox: Inbox) -> None:
    @router.consumer(CHAT_CONSUMER)
    async def on_chat_streamed(event: ChatEventV1, _: Delivery) -> None:
        await project_chat(inbox, event)
