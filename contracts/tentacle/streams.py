"""tentacle's streams and durable consumers, with their delivery settings spelled out.

AckWait is short on purpose: a replica killed mid-step hands its messages back within seconds,
and handlers that run long (a model call, a slow site) keep theirs with heartbeats (the consumer
beats every third of AckWait). Transient failures are retried by redelivery alone, with the
backoff below; the last attempt's failure is recorded on the step instead of being retried.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from contracts.streams import Consumer, Retention, Stream
from contracts.subject import Subject
from contracts.tentacle.models import StepRunV1
from contracts.tentacle.subjects import SERVICE, STEP_RUN, TASK_ADVANCE, TASK_CREATE

COMMANDS = Stream(
    name="TENTACLE_COMMANDS",
    subjects=(TASK_CREATE.wildcard,),
    description="Tasks to create, from triggers, schedules and other services.",
    retention=Retention.WORK_QUEUE,
    max_age=timedelta(days=7),
)

WORK = Stream(
    name="TENTACLE_WORK",
    subjects=(TASK_ADVANCE.wildcard, f"{SERVICE}.v1.cmd.step.>"),
    description="Orchestration cycles to run and steps to execute, each taken by one replica.",
    retention=Retention.WORK_QUEUE,
    max_age=timedelta(days=7),
)

EVENTS = Stream(
    name="TENTACLE_EVENTS",
    subjects=(f"{SERVICE}.v1.evt.task.>",),
    description="Task lifecycle events, in order per task.",
    max_age=timedelta(days=30),
    max_bytes=8 * 1024 * 1024 * 1024,
)

PATIENT_BACKOFF: Final = (
    timedelta(seconds=1),
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=5),
)
"""For work that waits on a dependency (the database, another service) that is usually back
within minutes: a first quick retry, then longer waits, about eight minutes in all."""

CREATE_CONSUMER = Consumer(
    durable="tentacle-task-create",
    service=SERVICE,
    stream=COMMANDS,
    subject=TASK_CREATE,
    description="Create tasks requested asynchronously.",
    ack_wait=timedelta(seconds=10),
    max_deliver=6,
    backoff=PATIENT_BACKOFF,
    jitter=0.2,
    concurrency=32,
)

ADVANCE_CONSUMER = Consumer(
    durable="tentacle-task-advance",
    service=SERVICE,
    stream=WORK,
    subject=TASK_ADVANCE,
    description="Orchestration cycles: plan, decide, dispatch; any replica advances any task.",
    ack_wait=timedelta(seconds=10),
    max_deliver=6,
    backoff=(
        timedelta(milliseconds=500),
        timedelta(seconds=2),
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(minutes=1),
    ),
    jitter=0.2,
    max_ack_pending=2_000,
    concurrency=64,
)

AGENT_POOLS: Final = (
    "noop",
    "http_fetch",
    "summarize",
    "compose",
    "transform",
    "analyze",
    "aggregate",
    "notify",
    "file_storage",
    "custom",
)
"""The step worker pools: one per built-in agent, and `custom` for organisations' own agents."""

_POOL_CONCURRENCY: Final = {"noop": 256, "http_fetch": 32, "notify": 32, "file_storage": 32}


def _step_consumer(pool: str) -> Consumer[StepRunV1]:
    subject: Subject[StepRunV1, None] = STEP_RUN
    return Consumer(
        durable=f"tentacle-step-{pool.replace('_', '-')}",
        service=SERVICE,
        stream=WORK,
        subject=subject,
        filter_tokens=(("agent_type", pool),),
        description=f"Step workers of the {pool} pool.",
        ack_wait=timedelta(seconds=10),
        max_deliver=4,
        # Short: a step's transient failures (a site's 503, a dropped connection) usually clear
        # within seconds; a provider's Retry-After lengthens the wait when it asks for more.
        backoff=(timedelta(milliseconds=500), timedelta(seconds=2), timedelta(seconds=8)),
        jitter=0.2,
        max_ack_pending=2_000,
        concurrency=_POOL_CONCURRENCY.get(pool, 16),
    )


STEP_CONSUMERS: Final = {pool: _step_consumer(pool) for pool in AGENT_POOLS}

ALL_STREAMS = (COMMANDS, WORK, EVENTS)
ALL_CONSUMERS: tuple[Consumer[Any], ...] = (
    CREATE_CONSUMER,
    ADVANCE_CONSUMER,
    *STEP_CONSUMERS.values(),
)
