"""The projection in batches: copies in a batch applied once, replicas projecting overlapping
batches at once agree (and do not deadlock), one bad event in a batch fails alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from contracts.envelope import Actor, ActorKind
from contracts.ids import new_id
from contracts.tentacle.events import (
    CompletedDetailV1,
    StepCompletedDetailV1,
    TaskCreatedDetailV1,
    TaskEventKind,
    TaskEventV1,
)
from contracts.tentacle.models import TaskConstraintsV1, TaskStatus
from inbox.service.context import Inbox
from inbox.service.project import project_batch
from inbox.service.projector import Projector
from shared.service import ServiceApp
from tests.inbox.conftest import Platform


def inbox_of(app: ServiceApp) -> Inbox:
    assert app.http_app is not None
    inbox: Inbox = app.http_app.state.inbox
    return inbox


def a_task(
    org_id: str, steps: int, *, conversation_id: str | None = None, preview: str = "done"
) -> list[TaskEventV1]:
    """A task's lifecycle: created, `steps` steps completed, completed; one second apart."""
    task_id = new_id()
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def event(seq: int, kind: TaskEventKind, status: TaskStatus, detail: Any) -> TaskEventV1:
        return TaskEventV1(
            org_id=org_id,
            task_id=task_id,
            seq=seq,
            kind=kind,
            status=status,
            conversation_id=conversation_id,
            occurred_at=start + timedelta(seconds=seq),
            detail=detail,
        )

    created = TaskCreatedDetailV1(
        goal=f"goal of {task_id}",
        request_id=new_id(),
        constraints=TaskConstraintsV1(),
        budget_usd=Decimal(1),
        created_by=Actor(kind=ActorKind.SYSTEM, id="test"),
    )
    events = [event(1, TaskEventKind.TASK_CREATED, TaskStatus.PLANNING, created)]
    for n in range(1, steps + 1):
        detail = StepCompletedDetailV1(
            step_id=f"s{n}", agent="noop", attempt=1, plan_version=1, preview=f"{preview} {n}"
        )
        events.append(event(n + 1, TaskEventKind.STEP_COMPLETED, TaskStatus.EXECUTING, detail))
    events.append(
        event(steps + 2, TaskEventKind.COMPLETED, TaskStatus.COMPLETED, CompletedDetailV1())
    )
    return events


async def rows(conn: asyncpg.Connection, org_id: str) -> list[list[tuple[Any, ...]]]:
    queries = (
        "select conversation_id, title, last_message_at, last_preview, created_at, updated_at"
        " from conversations where org_id = $1 order by conversation_id",
        "select message_id, conversation_id, task_id, task_seq, kind, body, created_at"
        " from messages where org_id = $1 order by message_id",
        "select task_id, conversation_id, goal, status, last_seq from conversation_tasks"
        " where org_id = $1 order by task_id",
    )
    return [[tuple(r) for r in await conn.fetch(q, org_id)] for q in queries]


def without_titles(found: list[list[tuple[Any, ...]]]) -> list[list[tuple[Any, ...]]]:
    return [[c[:1] + c[2:] for c in found[0]], *found[1:]]


async def feed_of(conn: asyncpg.Connection, org_id: str) -> list[tuple[int, str, int]]:
    """(number, task, the event's seq) of each entry, in the feed's order."""
    found = await conn.fetch(
        "select seq, task_id, (data->'event'->>'seq')::int as event_seq from feed_entries"
        " where org_id = $1 and task_id is not null order by seq",
        org_id,
    )
    return [(r["seq"], r["task_id"], r["event_seq"]) for r in found]


async def test_a_copy_in_the_same_batch_or_a_later_one_is_applied_once(
    platform: Platform, inbox_db: asyncpg.Connection
) -> None:
    ada = await platform.sign_up("ada")
    inbox = inbox_of(platform.inbox)
    events = a_task(ada.org_id, 3)
    before = await feed_of(inbox_db, ada.org_id)

    await project_batch(inbox, [events[2], *events, events[2], events[0]])
    once = await rows(inbox_db, ada.org_id)
    feed = [f for f in await feed_of(inbox_db, ada.org_id) if f not in before]
    # One entry per event, numbered in the task's order, without gaps.
    assert [event_seq for _, _, event_seq in feed] == [e.seq for e in events]
    numbers = [number for number, _, _ in feed]
    assert numbers == list(range(numbers[0], numbers[0] + len(events)))
    thread = sorted(once[1], key=lambda m: m[3])
    assert [(m[4], m[5]) for m in thread[:3]] == [
        ("step_completed", f"done {n}") for n in (1, 2, 3)
    ]
    assert thread[3][4] == "task_completed"
    [conversation] = once[0]
    assert conversation[3] == thread[3][5]  # the latest message's preview
    [task] = once[2]
    assert task[3:] == ("completed", len(events))

    # Again, whole and in pieces, in another order: nothing changes, nothing more in the feed.
    await project_batch(inbox, list(reversed(events)))
    await asyncio.gather(*(project_batch(inbox, [e]) for e in events))
    assert await rows(inbox_db, ada.org_id) == once
    assert [f for f in await feed_of(inbox_db, ada.org_id) if f not in before] == feed


async def test_replicas_projecting_overlapping_batches_at_once_agree(
    platform: Platform, inbox_db: asyncpg.Connection
) -> None:
    ada = await platform.sign_up("ada")
    first = inbox_of(platform.inbox)
    second = inbox_of(await platform.start_inbox())
    shared = new_id()
    # Tasks that share one conversation and tasks with their own, all interleaved.
    tasks = [a_task(ada.org_id, 4, conversation_id=shared) for _ in range(3)]
    tasks += [a_task(ada.org_id, 4) for _ in range(3)]
    events = [e for i in range(6) for task in tasks for e in task[i : i + 1]]
    before = await feed_of(inbox_db, ada.org_id)

    def batches(ordered: list[TaskEventV1], size: int) -> list[list[TaskEventV1]]:
        return [ordered[i : i + size] for i in range(0, len(ordered), size)]

    # Each replica gets every event (as after a redelivery), in batches cut differently and
    # in opposite orders, so their batches overlap in rows and take them in other orders.
    one = [project_batch(first, b) for b in batches(events, 5)]
    two = [project_batch(second, b) for b in batches(list(reversed(events)), 7)]
    await asyncio.wait_for(asyncio.gather(*one, *two), 120)

    feed = [f for f in await feed_of(inbox_db, ada.org_id) if f not in before]
    assert sorted((task, seq) for _, task, seq in feed) == sorted(
        (e.task_id, e.seq) for e in events
    )
    numbers = [number for number, _, _ in feed]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))

    together = await rows(inbox_db, ada.org_id)
    conversations, messages, statuses = together
    assert len(conversations) == 4
    assert len(messages) == 6 * 5
    assert {status[3] for status in statuses} == {"completed"}
    # The same rows as one event at a time, in order, into a database without them.
    await inbox_db.execute("delete from conversations where org_id = $1", ada.org_id)
    await inbox_db.execute("delete from messages where org_id = $1", ada.org_id)
    await inbox_db.execute("delete from conversation_tasks where org_id = $1", ada.org_id)
    await inbox_db.execute("delete from projected_events where org_id = $1", ada.org_id)
    for event in sorted(events, key=lambda e: (e.task_id, e.seq)):
        await project_batch(first, [event])
    alone = await rows(inbox_db, ada.org_id)
    # A conversation nobody named takes the goal of the first of its tasks to be applied,
    # which for the shared one depends on the order: any of its tasks' goals will do.
    goals = {f"goal of {task[0].task_id}" for task in tasks[:3]}
    for rows_of in (together, alone):
        [named] = [c for c in rows_of[0] if c[0] == shared]
        assert named[1] in goals
    assert without_titles(alone) == without_titles(together)


async def test_a_bad_event_fails_alone_and_the_rest_of_its_batch_commits(
    platform: Platform, inbox_db: asyncpg.Connection
) -> None:
    ada = await platform.sign_up("ada")
    inbox = inbox_of(platform.inbox)
    calls: list[int] = []

    async def project(events: Any) -> None:
        calls.append(len(events))
        await project_batch(inbox, events)

    projector = Projector(project, max_batch=64)
    good = a_task(ada.org_id, 2)
    # PostgreSQL refuses a NUL in text: this step's message can never be stored.
    bad = a_task(ada.org_id, 1, preview="bad \x00 byte")
    outcomes = await asyncio.gather(
        *(projector.submit(e) for e in [*good, *bad]), return_exceptions=True
    )
    failed = [e for e, outcome in zip([*good, *bad], outcomes, strict=True) if outcome]
    assert [(e.task_id, e.seq) for e in failed] == [(bad[1].task_id, bad[1].seq)]
    assert calls[0] == len(good) + len(bad)  # first all together, then one by one
    done = await inbox_db.fetch(
        "select task_id, task_seq from messages where org_id = $1", ada.org_id
    )
    assert {(r["task_id"], r["task_seq"]) for r in done} == {
        (good[1].task_id, 2),
        (good[2].task_id, 3),
        (good[3].task_id, 4),
        (bad[2].task_id, 3),
    }
