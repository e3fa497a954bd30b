"""Bus subscribers: tentacle's lifecycle events in, the projection's use case, ack."""

from __future__ import annotations

from collections.abc import Sequence

from contracts.inbox.streams import LIFECYCLE_CONSUMER
from contracts.tentacle.events import TaskEventV1
from inbox.service.context import Inbox
from inbox.service.project import project_batch
from inbox.service.projector import Projector
from shared.bus import Delivery, Router


def register(router: Router, inbox: Inbox) -> Projector:
    async def project(events: Sequence[TaskEventV1]) -> None:
        await project_batch(inbox, events)

    # Deliveries in flight together share a transaction; each is acknowledged after its commit.
    projector = Projector(project, max_batch=LIFECYCLE_CONSUMER.concurrency)

    @router.consumer(LIFECYCLE_CONSUMER)
    async def on_task_progressed(event: TaskEventV1, _: Delivery) -> None:
        await projector.submit(event)

    return projector
