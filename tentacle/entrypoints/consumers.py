"""JetStream handlers: task creation from other services, orchestration cycles, step workers.

Returning acks the message; a permanent error terminates and dead-letters it; anything else is
redelivered with the consumer's backoff (the one retry owner).
"""

from __future__ import annotations

from contracts.tentacle.models import AdvanceTaskV1, CreateTaskV1, StepRunV1
from contracts.tentacle.streams import ADVANCE_CONSUMER, CREATE_CONSUMER, STEP_CONSUMERS
from shared.bus import Delivery, Router
from tentacle.service.advance_task import advance_task
from tentacle.service.create_task import create_task
from tentacle.service.deps import Deps
from tentacle.service.run_step import run_step


def register(router: Router, deps: Deps) -> None:
    @router.consumer(CREATE_CONSUMER)
    async def create(request: CreateTaskV1, delivery: Delivery) -> None:
        await create_task(deps, request, delivery.meta)

    @router.consumer(ADVANCE_CONSUMER)
    async def advance(command: AdvanceTaskV1, delivery: Delivery) -> None:
        await advance_task(deps, command, delivery.meta, last_attempt=delivery.last_attempt)

    async def step(run: StepRunV1, delivery: Delivery) -> None:
        await run_step(deps, run, delivery)

    for spec in STEP_CONSUMERS.values():
        router.consumer(spec)(step)
