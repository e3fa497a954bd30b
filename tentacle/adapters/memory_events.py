"""The change events of memories, staged in the outbox with the write they announce."""

from __future__ import annotations

from contracts.envelope import Actor
from contracts.tentacle.memory import MEMORY_CHANGED, MemoryChange, MemoryChangedV1, MemoryV1
from shared.bus.codec import OutboundMessage, encode
from shared.context import new_stamp, system_actor

SYSTEM = system_actor("tentacle")


def memory_message(memory: MemoryV1, change: MemoryChange, actor: Actor) -> OutboundMessage:
    event = MemoryChangedV1(
        org_id=memory.org_id,
        key=memory.key,
        change=change,
        version=memory.version,
        tier=memory.tier,
        source=memory.source,
    )
    stamp = new_stamp("MemoryChangedV1", org_id=memory.org_id, actor=actor, default_actor=SYSTEM)
    return encode(MEMORY_CHANGED, event, stamp)
