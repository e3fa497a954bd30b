"""What Flux's use cases are given, and what they share: the streamed events of a reply."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.envelope import Meta
from contracts.tentacle.chat import CHAT_STREAMED, ChatEventDetailV1, ChatEventKind, ChatEventV1
from shared.bus import Bus
from shared.errors import CodedPermanentError
from shared.llm import LLMGateway
from tentacle.adapters.pg import TaskDb, Tx
from tentacle.service.chat_tools import ToolBox
from tentacle.settings import TentacleSettings


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ChatDeps:
    db: TaskDb
    bus: Bus
    gateway: LLMGateway
    tools: ToolBox
    settings: TentacleSettings
    max_rounds: int = 8
    """Model calls per reply (each may call tools); a reply that needs more stops with an error."""
    beat_seconds: float = 0.3
    """How often a streaming reply records progress and looks for a cancel from another replica."""
    stale_seconds: float = 90.0
    """A running reply silent this long lost its replica; the next message may take over."""
    history_turns: int = 200
    clock: Callable[[], datetime] = _now
    cancels: dict[str, asyncio.Event] = field(default_factory=dict)
    """Replies streaming in this process, by id: set to stop one at once."""


def require_org(meta: Meta) -> str:
    if meta.org_id is None:
        raise CodedPermanentError("tentacle.org_required", "the message names no organisation")
    return meta.org_id


class Emitter:
    """Numbers one reply's events 1, 2, 3, ... and sends them: deltas at once, the others with
    the write that makes them true (through the outbox)."""

    def __init__(
        self,
        deps: ChatDeps,
        *,
        org_id: str,
        conversation_id: str,
        reply_id: str,
        message_id: str,
        seq: int,
    ) -> None:
        self.deps = deps
        self.org_id = org_id
        self.conversation_id = conversation_id
        self.reply_id = reply_id
        self.message_id = message_id
        self.seq = seq

    def _event(self, detail: ChatEventDetailV1) -> ChatEventV1:
        self.seq += 1
        return ChatEventV1(
            org_id=self.org_id,
            conversation_id=self.conversation_id,
            reply_id=self.reply_id,
            message_id=self.message_id,
            seq=self.seq,
            kind=ChatEventKind(detail.kind),
            occurred_at=self.deps.clock(),
            detail=detail,
        )

    async def now(self, detail: ChatEventDetailV1) -> None:
        await self.deps.bus.publish(CHAT_STREAMED, self._event(detail), org_id=self.org_id)

    def with_write(self, tx: Tx, detail: ChatEventDetailV1) -> None:
        tx.publish(self.deps.bus.message(CHAT_STREAMED, self._event(detail), org_id=self.org_id))
