"""The change events of workspace objects, staged in the outbox with the write they announce."""

from __future__ import annotations

from contracts.envelope import Actor
from contracts.tentacle.objects import (
    OBJECT_CREATED,
    OBJECT_DELETED,
    OBJECT_UPDATED,
    ObjectChange,
    ObjectChangedV1,
    ObjectV1,
)
from shared.bus.codec import OutboundMessage, encode
from shared.context import new_stamp, system_actor

SYSTEM = system_actor("tentacle")
_SUBJECTS = {
    ObjectChange.CREATED: OBJECT_CREATED,
    ObjectChange.UPDATED: OBJECT_UPDATED,
    ObjectChange.DELETED: OBJECT_DELETED,
}


def change_message(obj: ObjectV1, change: ObjectChange, actor: Actor) -> OutboundMessage:
    event = ObjectChangedV1(
        org_id=obj.org_id,
        object_type=obj.type,
        object_id=obj.id,
        change=change,
        version=obj.version,
        object=obj,
    )
    stamp = new_stamp("ObjectChangedV1", org_id=obj.org_id, actor=actor, default_actor=SYSTEM)
    return encode(_SUBJECTS[change], event, stamp)
