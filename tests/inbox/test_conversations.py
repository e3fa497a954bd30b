"""Conversations projected from task lifecycle events, and what people do with them."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from contracts.inbox.streams import LIFECYCLE_CONSUMER
from contracts.tentacle.subjects import TASK_PROGRESSED
from tests.inbox.conftest import Person, Platform, noop_plan
from tests.tentacle.conftest import lifecycle


def kinds(messages: list[Any]) -> list[str]:
    return [m["kind"] for m in messages]


async def finished_thread(ada: Person, task_id: str, steps: int = 2) -> list[Any]:
    """The thread once every step's message and the task's end are in (in any order)."""

    def done(m: list[Any]) -> bool:
        return "task_completed" in kinds(m) and kinds(m).count("step_completed") >= steps

    return await ada.wait_messages(task_id, done)


async def test_a_task_becomes_a_conversation_with_agent_messages(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    task = await ada.create_task("count to two", plan=noop_plan("a", "b"))
    messages = await finished_thread(ada, task["task_id"])
    assert kinds(messages) == ["step_completed", "step_completed", "task_completed"]
    assert [m["agent_id"] for m in messages] == ["noop", "noop", "task_orchestrator"]
    assert all(m["role"] == "agent" and m["task_id"] == task["task_id"] for m in messages)

    # Page by page (a cycle's events share their time; the task's sequence orders them).
    paged: list[Any] = []
    cursor: str | None = None
    while True:
        query = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = await ada.ok(
            "GET", f"/api/v1/conversations/{task['task_id']}/messages", params=query
        )
        paged += page["messages"]
        if not (cursor := page["next_cursor"]):
            break
    assert [m["message_id"] for m in paged] == [m["message_id"] for m in messages]

    conversation = await ada.ok("GET", f"/api/v1/conversations/{task['task_id']}")
    assert conversation["title"] == "count to two"
    assert conversation["read_status"] == "unread"
    assert conversation["priority"] == "normal"

    read = await ada.ok(
        "PATCH", f"/api/v1/conversations/{task['task_id']}", json={"read_status": "read"}
    )
    assert read["read_status"] == "read"
    unread = await ada.ok("GET", "/api/v1/conversations", params={"read_status": "unread"})
    assert unread["conversations"] == []
    await ada.ok(
        "PATCH", f"/api/v1/conversations/{task['task_id']}", json={"read_status": "archived"}
    )
    assert (await ada.ok("GET", "/api/v1/conversations"))["conversations"] == []
    archived = await ada.ok("GET", "/api/v1/conversations", params={"read_status": "archived"})
    assert [c["conversation_id"] for c in archived["conversations"]] == [task["task_id"]]
    bad = await ada.http.patch(
        f"/api/v1/conversations/{task['task_id']}", json={"read_status": "deleted"}
    )
    assert bad.status_code == 422


async def test_checkpoints_are_interactive_messages_at_attention(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    task = await ada.create_task("ask first", plan=noop_plan("a", "b", checkpoint_on="b"))
    messages = await ada.wait_messages(task["task_id"], lambda m: "checkpoint" in kinds(m))
    [card] = [m for m in messages if m["kind"] == "checkpoint"]
    assert card["checkpoint_status"] == "pending"
    assert card["data"]["checkpoint"]["title"] == "Run b?"
    attention = await ada.ok("GET", "/api/v1/conversations", params={"priority": "attention"})
    assert [c["conversation_id"] for c in attention["conversations"]] == [task["task_id"]]
    assert attention["conversations"][0]["priority"] == "attention"

    await ada.ok(
        "POST",
        f"/api/v1/tasks/{task['task_id']}/checkpoints/{card['checkpoint_id']}",
        json={"response": {"type": "approval", "approved": True}},
    )
    messages = await finished_thread(ada, task["task_id"])
    [card] = [m for m in messages if m["kind"] == "checkpoint"]
    assert card["checkpoint_status"] == "approved"
    conversation = await ada.ok("GET", f"/api/v1/conversations/{task['task_id']}")
    assert conversation["priority"] == "normal"
    attention = await ada.ok("GET", "/api/v1/conversations", params={"priority": "attention"})
    assert attention["conversations"] == []


async def test_the_composer_starts_tasks_that_report_into_the_same_thread(
    platform: Platform,
) -> None:
    ada = await platform.sign_up("ada")
    started = await ada.ok("POST", "/api/v1/conversations", 201, json={"text": "say hello"})
    conversation_id = started["message"]["conversation_id"]
    assert started["task"]["conversation_id"] == conversation_id
    assert started["message"]["role"] == "user"
    follow = await ada.ok(
        "POST", f"/api/v1/conversations/{conversation_id}/messages", 201, json={"text": "again"}
    )
    assert follow["task"]["conversation_id"] == conversation_id
    assert follow["task"]["task_id"] != started["task"]["task_id"]
    messages = await ada.wait_messages(
        conversation_id,
        lambda m: kinds(m).count("task_completed") + kinds(m).count("task_failed") == 2,
    )
    assert [m["body"] for m in messages if m["role"] == "user"] == ["say hello", "again"]
    assert {m["task_id"] for m in messages if m["role"] == "agent"} == {
        started["task"]["task_id"],
        follow["task"]["task_id"],
    }
    missing = await ada.http.post("/api/v1/conversations/nope/messages", json={"text": "x"})
    assert missing.status_code == 404
    empty = await ada.http.post("/api/v1/conversations", json={"text": ""})
    assert empty.status_code == 422


async def test_pagination_with_cursors(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    tasks = [await ada.create_task(f"t{i}", plan=noop_plan("a")) for i in range(3)]
    for task in tasks:
        await finished_thread(ada, task["task_id"], steps=1)
    first = await ada.ok("GET", "/api/v1/conversations", params={"limit": 2})
    assert len(first["conversations"]) == 2
    second = await ada.ok(
        "GET", "/api/v1/conversations", params={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert second["next_cursor"] is None
    ids = [c["conversation_id"] for c in first["conversations"] + second["conversations"]]
    assert sorted(ids) == sorted(t["task_id"] for t in tasks)

    thread = await ada.ok(
        "GET", f"/api/v1/conversations/{tasks[0]['task_id']}/messages", params={"limit": 1}
    )
    rest = await ada.ok(
        "GET",
        f"/api/v1/conversations/{tasks[0]['task_id']}/messages",
        params={"limit": 10, "cursor": thread["next_cursor"]},
    )
    assert len(thread["messages"]) + len(rest["messages"]) == 2

    for cursor in ("garbage", first["next_cursor"] + "x", thread["next_cursor"]):
        answer = await ada.http.get("/api/v1/conversations", params={"cursor": cursor})
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "inbox.invalid_cursor"
    eve = await platform.sign_up("eve")
    stolen = await eve.http.get("/api/v1/conversations", params={"cursor": first["next_cursor"]})
    assert stolen.json()["error"]["code"] == "inbox.invalid_cursor"


SNAPSHOT = (
    "select conversation_id, title, pending_checkpoints, last_message_at, last_preview,"
    " created_at, updated_at from conversations order by conversation_id",
    "select message_id, conversation_id, task_id, task_seq, role, agent_id, kind, body,"
    " data::text, checkpoint_id, created_at from messages order by message_id",
    "select checkpoint_id, task_id, conversation_id, status from checkpoints"
    " order by checkpoint_id",
)


async def snapshot(conn: asyncpg.Connection) -> list[list[Any]]:
    return [[tuple(r) for r in await conn.fetch(q)] for q in SNAPSHOT]


async def test_replaying_the_stream_rebuilds_the_same_conversations(
    platform: Platform, inbox_db: asyncpg.Connection
) -> None:
    ada = await platform.sign_up("ada")
    done = await ada.create_task("plain", plan=noop_plan("a", "b"))
    held = await ada.create_task("held", plan=noop_plan("a", "b", checkpoint_on="b"))
    await finished_thread(ada, done["task_id"])
    messages = await ada.wait_messages(held["task_id"], lambda m: "checkpoint" in kinds(m))
    [card] = [m for m in messages if m["kind"] == "checkpoint"]
    await ada.ok(
        "POST",
        f"/api/v1/tasks/{held['task_id']}/checkpoints/{card['checkpoint_id']}",
        json={"response": {"type": "approval", "approved": True}},
    )
    await ada.wait_messages(held["task_id"], lambda m: len(m) == 4)
    await ada.wait_messages(done["task_id"], lambda m: len(m) == 3)
    before = await snapshot(inbox_db)
    assert len(before[1]) == 7

    # Redelivered copies (new message ids, same events) change nothing.
    events = await lifecycle(platform.bus, done["task_id"], org_id=ada.org_id)
    for event in events:
        await platform.bus.publish(TASK_PROGRESSED, event, org_id=ada.org_id)
    # The whole stream again, from a fresh consumer, into emptied tables: the same rows.
    await platform.inbox.stop()
    await platform.bus.js.delete_consumer(
        LIFECYCLE_CONSUMER.stream.name, LIFECYCLE_CONSUMER.durable
    )
    await inbox_db.execute(
        "truncate conversations, messages, checkpoints, conversation_tasks, projected_events"
    )
    replayed = await platform.start_inbox()
    platform.inbox = replayed
    deadline = asyncio.get_running_loop().time() + 30
    while (now := await snapshot(inbox_db)) != before:
        assert asyncio.get_running_loop().time() < deadline, f"no convergence: {now}"
        await asyncio.sleep(0.2)
