"""Bus handlers of Flux, the conversational agent: messages and approval answers (JetStream
commands, a reply streamed per delivery) and the cancel and history requests."""

from __future__ import annotations

from contracts.tentacle.chat import (
    CHAT_CANCEL,
    CHAT_HISTORY,
    CHAT_RESPOND_CONSUMER,
    CHAT_SEND_CONSUMER,
    CancelChatReplyV1,
    ChatHistoryV1,
    ChatReplyV1,
    GetChatHistoryV1,
    RespondChatApprovalV1,
    SendChatMessageV1,
)
from shared.bus import Delivery, Request, Router
from tentacle.adapters.offline import flux as offline_flux
from tentacle.service.chat_cancel import cancel_reply
from tentacle.service.chat_deps import ChatDeps
from tentacle.service.chat_history import chat_history
from tentacle.service.chat_respond import respond_approval
from tentacle.service.chat_send import send_message
from tentacle.service.chat_tools import ToolBox
from tentacle.service.deps import Deps


def register(router: Router, deps: ChatDeps) -> None:
    @router.consumer(CHAT_SEND_CONSUMER)
    async def send(message: SendChatMessageV1, delivery: Delivery) -> None:
        await send_message(deps, message, delivery.meta, last_attempt=delivery.last_attempt)

    @router.consumer(CHAT_RESPOND_CONSUMER)
    async def respond(answer: RespondChatApprovalV1, delivery: Delivery) -> None:
        await respond_approval(deps, answer, delivery.meta, last_attempt=delivery.last_attempt)

    @router.rpc(CHAT_CANCEL)
    async def cancel(request: CancelChatReplyV1, req: Request) -> ChatReplyV1:
        return await cancel_reply(deps, request, req.meta)

    @router.rpc(CHAT_HISTORY)
    async def history(request: GetChatHistoryV1, req: Request) -> ChatHistoryV1:
        return await chat_history(deps, request, req.meta)


def install_chat(router: Router, deps: Deps) -> ChatDeps:
    """Wire Flux into tentacle (called by its composition root)."""
    offline_flux.register(deps.gateway.responders)
    chat = ChatDeps(
        db=deps.db,
        bus=deps.bus,
        gateway=deps.gateway,
        tools=ToolBox(deps.bus, deps.gateway, deps.settings),
        settings=deps.settings,
    )
    register(router, chat)
    return chat
