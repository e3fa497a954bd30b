"""Built-in agents doing real work: fetching (behind the SSRF guard), summarizing, sending."""

from __future__ import annotations

import asyncio
from typing import Any

from nats.js.errors import NotFoundError
from sqlalchemy import text

from contracts.ids import new_id
from contracts.mimic import SEND, SendNotificationV1, notification_id
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.models import (
    CallKind,
    StepRunV1,
    StepStatus,
    TaskConstraintsV1,
    TaskRefV1,
    TaskStatus,
    TerminalReason,
    task_id_for,
)
from contracts.tentacle.subjects import STEP_RUN, TASK_COST
from shared.bus import Bus
from shared.bus.codec import decode
from shared.service import ServiceApp
from tentacle.adapters.messages import idempotency_key
from tests.tentacle.conftest import ORG, Caller, Start
from tests.tentacle.site import Site

AUTO = TaskConstraintsV1(auto_approve=True)


def fetch_plan(url: str, **fetch: Any) -> dict[str, Any]:
    return {
        "steps": [
            {"id": "fetch", "agent": "http_fetch", "inputs": {"url": url, **fetch}},
            {"id": "sum", "agent": "summarize", "inputs": {"text": {"$ref": "fetch.text"}}},
        ]
    }


async def mimic_sends(bus: Bus) -> list[SendNotificationV1]:
    """Send commands waiting in Mimic's work queue (read by sequence: no consumer is made, so
    nothing is taken off the queue)."""
    state = (await bus.js.stream_info("MIMIC_COMMANDS")).state
    found: list[SendNotificationV1] = []
    if not state.messages:
        return found
    for seq in range(state.first_seq, state.last_seq + 1):
        try:
            msg = await bus.js.get_msg("MIMIC_COMMANDS", seq)
        except NotFoundError:
            continue
        if msg.subject == SEND.template and msg.data is not None:
            found.append(decode(SEND, msg.data, strict=True, max_bytes=1 << 22).data)
    return found


async def test_fetch_reads_the_page_text_and_summarize_uses_it(
    start_tentacle: Start, caller: Caller, site: Site
) -> None:
    await start_tentacle(http_allow_private=True)
    task = await caller.create("summarize the article", plan=fetch_plan(f"{site.url}/article"))
    detail = await caller.wait(task.task_id)
    assert detail.task.status is TaskStatus.COMPLETED
    fetched = detail.steps[0].output
    assert isinstance(fetched, dict)
    assert fetched["status"] == 200
    page = str(fetched["text"])
    assert "gravitational pull of the Moon" in page
    assert "alert" not in page
    assert "color" not in page
    result = detail.task.result
    assert isinstance(result, dict)
    summary = str(result["summary"])
    assert summary.startswith("[offline model] ")
    assert "Moon" in summary
    assert detail.task.summary == summary


async def test_private_addresses_are_refused_by_default(
    tentacle: ServiceApp, caller: Caller, site: Site
) -> None:
    task = await caller.create("peek inside", plan=fetch_plan(f"{site.url}/article"))
    detail = await caller.wait(task.task_id)
    assert detail.task.status is TaskStatus.FAILED
    assert detail.task.terminal_reason is TerminalReason.STEP_FAILED
    error = detail.steps[0].error
    assert error is not None
    assert error.code == TentacleErrorCode.DESTINATION_BLOCKED
    assert site.hits["article"] == 0


async def test_a_missing_page_fails_at_once_and_a_broken_one_is_retried(
    start_tentacle: Start, caller: Caller, site: Site
) -> None:
    await start_tentacle(http_allow_private=True)
    task = await caller.create("x", plan=fetch_plan(f"{site.url}/missing"))
    detail = await caller.wait(task.task_id)
    assert detail.steps[0].error is not None
    assert detail.steps[0].error.code == TentacleErrorCode.FETCH_FAILED
    assert detail.steps[0].error.details == {"status": 404}

    task = await caller.create("y", plan=fetch_plan(f"{site.url}/broken"))
    for _ in range(100):  # redelivered after the consumer's first backoff (0.5 s)
        if site.hits["broken"] >= 2:
            break
        await asyncio.sleep(0.05)
    assert site.hits["broken"] >= 2
    running = await caller.get(task.task_id)
    assert running.task.status is TaskStatus.EXECUTING
    assert running.steps[0].status is StepStatus.RUNNING


async def test_a_post_is_journalled_and_never_made_twice(
    start_tentacle: Start, caller: Caller, site: Site, bus: Bus
) -> None:
    app = await start_tentacle(http_allow_private=True)
    plan = {
        "steps": [
            {
                "id": "order",
                "agent": "http_fetch",
                "inputs": {"url": f"{site.url}/orders", "method": "POST", "json": {"n": 1}},
            }
        ]
    }
    task = await caller.create("order one", plan=plan, constraints=AUTO)
    detail = await caller.wait(task.task_id)
    assert detail.task.status is TaskStatus.COMPLETED
    key = idempotency_key(task.task_id, "order", 1, 1)
    assert site.posts == {key: 1}
    # The call is a node of the execution tree of its own, under the step that made it.
    cost = await caller.ask(TASK_COST, TaskRefV1(task_id=task.task_id))
    [step] = [n for n in cost.calls if n.kind is CallKind.STEP]
    [call] = [n for n in cost.calls if n.kind is CallKind.TOOL]
    assert (call.name, call.parent_call_id) == ("http", step.call_id)
    assert call.call_id != step.call_id

    # A replica died after the call was journalled but before the result was recorded: the
    # step is still running and its work item comes back. (Written the way tentacle writes:
    # with a new version, so no replica trusts its older copy of the task.)
    async with app.db.transaction(org_id=ORG) as uow:
        await uow.session.execute(
            text("UPDATE steps SET status = 'running' WHERE task_id = :id"), {"id": task.task_id}
        )
        await uow.session.execute(
            text(
                "UPDATE tasks SET status = 'executing', terminal_reason = NULL,"
                " version = version + 1 WHERE id = :id"
            ),
            {"id": task.task_id},
        )
    run = StepRunV1(
        task_id=task.task_id,
        step_id="order",
        plan_version=1,
        attempt=1,
        agent="http_fetch",
        agent_type="http_fetch",
        idempotency_key=key,
        inputs={"url": f"{site.url}/orders", "method": "POST", "json": {"n": 1}},
    )
    await bus.publish(STEP_RUN, run, org_id=ORG)
    again = await caller.wait(task.task_id)
    assert again.task.status is TaskStatus.COMPLETED
    assert again.steps[0].output == detail.steps[0].output  # the journalled response
    assert site.posts == {key: 1}

    # An attempt journalled as started whose outcome nobody knows is not repeated.
    request_id = new_id()
    doomed = task_id_for(ORG, request_id)
    async with app.db.transaction(org_id=ORG) as uow:
        await uow.session.execute(
            text(
                "INSERT INTO side_effects (org_id, key, task_id, step_id, tool, status)"
                " VALUES (:org, :key, :task, 'order', 'http', 'started')"
            ),
            {"org": ORG, "key": idempotency_key(doomed, "order", 1, 1), "task": doomed},
        )
    task = await caller.create("order two", plan=plan, constraints=AUTO, request_id=request_id)
    detail = await caller.wait(task.task_id)
    assert detail.task.status is TaskStatus.FAILED
    assert detail.steps[0].error is not None
    assert detail.steps[0].error.code == TentacleErrorCode.OUTCOME_UNKNOWN
    assert len(site.posts) == 1


async def test_notify_sends_through_mimic_exactly_once(
    tentacle: ServiceApp, caller: Caller, bus: Bus
) -> None:
    plan = {
        "steps": [
            {
                "id": "write",
                "agent": "compose",
                "inputs": {"instructions": "Tell Bob the build is green", "format": "email"},
            },
            {
                "id": "send",
                "agent": "notify",
                "inputs": {
                    "to": "bob@example.com",
                    "subject": {"$ref": "write.subject"},
                    "body": {"$ref": "write.body"},
                },
            },
        ]
    }
    task = await caller.create("tell bob", plan=plan, constraints=AUTO)
    detail = await caller.wait(task.task_id)
    assert detail.task.status is TaskStatus.COMPLETED
    [sent] = await mimic_sends(bus)
    key = idempotency_key(task.task_id, "send", 1, 1)
    assert sent.idempotency_key == key
    assert sent.to.address == "bob@example.com"
    assert sent.content is not None
    assert sent.content.subject == "Bob the build is green"
    assert sent.metadata == {"task_id": task.task_id, "step_id": "send"}
    assert detail.steps[1].output == {
        "notification_id": notification_id(ORG, key),
        "status": "queued",
        "to": "bob@example.com",
    }
    async with tentacle.db.transaction() as uow:
        copies = await uow.session.scalar(
            text("SELECT count(*) FROM fluxos_outbox WHERE subject = :s"), {"s": SEND.template}
        )
    assert copies == 1
