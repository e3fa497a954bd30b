"""Lifecycle events carry their kind in the subject, and tentacle's consumers of a task's end
are provisioned to receive only the kinds they act on."""

from __future__ import annotations

import asyncio
import json

from nats.aio.msg import Msg

from contracts.tentacle.memory import LEARNINGS_CONSUMER
from contracts.tentacle.subjects import TASK_PROGRESSED
from contracts.tentacle.triggers import TASK_EVENTS_CONSUMER
from shared.bus import Bus
from shared.service import ServiceApp
from tests.tentacle.conftest import ORG, Caller


async def test_every_event_is_published_under_its_kind(
    tentacle: ServiceApp, bus: Bus, caller: Caller
) -> None:
    seen: list[tuple[str, str]] = []

    async def on_event(msg: Msg) -> None:
        seen.append((msg.subject, json.loads(msg.data)["data"]["kind"]))

    sub = await bus.nc.subscribe(TASK_PROGRESSED.filter(org_id=ORG), cb=on_event)
    try:
        plan = {
            "steps": [
                {"id": "a", "agent": "noop"},
                {"id": "b", "agent": "noop", "depends_on": ["a"]},
            ]
        }
        task = await caller.create("Count to two", plan=plan)
        await caller.wait(task.task_id, timeout=60)
        mine = f".{task.task_id}."

        async def all_seen() -> bool:
            return any(kind == "completed" and mine in s for s, kind in seen)

        deadline = asyncio.get_running_loop().time() + 30
        while not await all_seen():
            assert asyncio.get_running_loop().time() < deadline, "no completed event seen"
            await asyncio.sleep(0.05)
    finally:
        await sub.unsubscribe()
    events = [(s, kind) for s, kind in seen if mine in s]
    kinds = [kind for _, kind in events]
    assert kinds.count("step_started") == 2
    assert kinds.count("step_completed") == 2
    for subject, kind in events:
        assert subject == f"tentacle.v1.evt.task.{ORG}.{task.task_id}.{kind}.progressed"


async def test_consumers_of_a_task_s_end_are_provisioned_with_only_its_kinds(
    tentacle: ServiceApp, bus: Bus
) -> None:
    wanted = {
        TASK_EVENTS_CONSUMER.durable: [
            "tentacle.v1.evt.task.*.*.completed.progressed",
            "tentacle.v1.evt.task.*.*.failed.progressed",
            "tentacle.v1.evt.task.*.*.cancelled.progressed",
            "tentacle.v1.evt.task.*.*.progressed",  # messages from before the kind token
        ],
        LEARNINGS_CONSUMER.durable: [
            "tentacle.v1.evt.task.*.*.completed.progressed",
            "tentacle.v1.evt.task.*.*.progressed",
        ],
    }
    for durable, filters in wanted.items():
        info = await bus.js.consumer_info("TENTACLE_EVENTS", durable)
        assert info.config.filter_subjects == filters, durable
