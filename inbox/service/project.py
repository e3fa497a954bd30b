"""The projection: task lifecycle events in, conversations and messages out.

Idempotent and order-tolerant. An event is applied once, keyed by its task and sequence number
(`projected_events`), so a redelivery or a replay of the whole stream changes nothing twice and
a fresh database rebuilt from the stream holds the same conversations and messages (their ids
and times come from the events). Checkpoints keep their state in their own row, so a
resolution that overtakes its request still leaves the checkpoint resolved, and a conversation's
priority is recounted from those rows rather than incremented.

Events come in batches (see `inbox.service.projector`). What each event says is worked out here
(its conversation, message, title); the writes are one statement, `inbox_project` (migration
0002), which claims the events, upserts conversations, tasks, messages and checkpoints, and
appends the feed's entries, each showing its conversation as the batch left it. Every column
is a greatest, least or first-non-empty of what the events say, so applying them together
leaves the same rows as one at a time, in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import JsonValue

from contracts.inbox.models import FeedEntryV1, FeedKind
from contracts.tentacle.events import (
    CheckpointResolvedDetailV1,
    TaskCreatedDetailV1,
    TaskEventV1,
)
from inbox.domain.messages import conversation_of, message_for, message_id_for, order_key
from inbox.service import feed
from inbox.service.context import Inbox


async def project(inbox: Inbox, event: TaskEventV1) -> None:
    await project_batch(inbox, [event])


async def project_batch(inbox: Inbox, events: Sequence[TaskEventV1]) -> None:
    """Apply `events` (one organisation's) in one transaction, then announce their entries.

    Rows are locked in one order: the batch's conversations by id, each before anything of its
    tasks (a task stays in one conversation), and the feed's head last. So batches projected at
    once by several replicas wait for each other rather than deadlock. A task's events are
    numbered in the feed in their sequence.
    """
    if not events:
        return
    org = events[0].org_id
    if any(event.org_id != org for event in events):
        raise ValueError("a batch holds the events of one organisation")
    unique: dict[tuple[str, int], TaskEventV1] = {}
    for event in events:
        unique.setdefault((event.task_id, event.seq), event)  # a copy in the same batch
    ordered = sorted(unique.values(), key=lambda e: (conversation_of(e), e.task_id, e.seq))
    appended = await inbox.projection.project(
        org, [_said(org, n, event) for n, event in enumerate(ordered)]
    )
    entries = [_entry(org, ordered[row["n"]], row) for row in appended]
    await feed.announce_many(inbox, entries)


def _said(org: str, n: int, event: TaskEventV1) -> dict[str, Any]:
    """What `event` says, as `inbox_project` takes it."""
    detail = event.detail
    goal = detail.goal if isinstance(detail, TaskCreatedDetailV1) else ""
    said: dict[str, Any] = {
        "n": n,
        "task_id": event.task_id,
        "seq": event.seq,
        "conversation_id": conversation_of(event),
        "title": goal[:200],
        "goal": goal,
        "status": event.status.value,
        "occurred_at": event.occurred_at.isoformat(),
        "order_key": order_key(event),
        "event": _event_json(event),
    }
    draft = message_for(event)
    if draft is not None:
        said["message"] = {
            "message_id": message_id_for(org, event.task_id, event.seq),
            "agent_id": draft.agent_id,
            "kind": draft.kind,
            "body": draft.body,
            "preview": draft.body[:200],
            "data": draft.data,
            "checkpoint_id": draft.checkpoint_id,
        }
    if isinstance(detail, CheckpointResolvedDetailV1):
        said["resolved"] = {
            "checkpoint_id": detail.checkpoint_id,
            "status": detail.status.value,
            "auto": detail.auto,
        }
    return said


def _entry(org: str, event: TaskEventV1, row: dict[str, Any]) -> FeedEntryV1:
    return FeedEntryV1(
        org_id=org,
        seq=row["seq"],
        kind=FeedKind(row["kind"]),
        conversation_id=conversation_of(event),
        task_id=event.task_id,
        data=row["data"],
        source_at=event.occurred_at,
        at=row["at"],  # the database's clock when it appended the entry (JSON text)
    )


def _event_json(event: TaskEventV1) -> dict[str, JsonValue]:
    detail = event.detail
    out: dict[str, JsonValue] = {
        "task_id": event.task_id,
        "seq": event.seq,
        "kind": event.kind.value,
        "status": event.status.value,
        "occurred_at": event.occurred_at.isoformat(),
    }
    step_id = getattr(detail, "step_id", None)
    if isinstance(step_id, str):
        out["step_id"] = step_id
    return out
