"""Bus subscribers: tentacle's lifecycle events in, the projection's use case, ack."""

from __future__ import annotations

from contracts.inbox.streams import LIFECYCLE_CONSUMER
from contracts.tentacle.events import TaskEventV1
from inbox.service.context import Inbox
from inbox.service.project import project
from shared.bus import Delivery, Router


def register(router: Router, inbox: Inbox) -> None:
    @router.consumer(LIFECYCLE_CONSUMER)
    async def on_task_progressed(event: TaskEventV1, _: Delivery) -> None:
        await project(inbox, event)
