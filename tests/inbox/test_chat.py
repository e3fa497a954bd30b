"""Chatting with Flux through the inbox's API: the message goes to Flux as the signed-in person,
the reply streams on their live stream, and what lasts (tool calls, results, approvals, the
final text) is in the thread afterwards. Flux answers with the built-in offline model."""

from __future__ import annotations

from typing import Any

from tests.inbox.conftest import Person, Platform
from tests.inbox.sse import Event, SseClient


def chat_events(events: list[Event], reply_id: str) -> list[Event]:
    return [e for e in events if e.event == "chat" and e.data["reply_id"] == reply_id]


def ended(events: list[Event], reply_id: str, kind: str) -> bool:
    return any(e.data["kind"] == kind for e in chat_events(events, reply_id))


def thread_has(kind: str, count: int = 1) -> Any:
    return lambda ms: sum(1 for m in ms if m["kind"] == kind) >= count


async def test_a_message_to_flux_streams_its_reply_and_stays_in_the_thread(
    platform: Platform,
) -> None:
    ada = await platform.sign_up("ada")
    stream = SseClient(ada.http)
    await stream.open()
    try:
        sent = await ada.ok("POST", "/api/v1/chat", 202, json={"text": "Summarize today's news"})
        reply_id = sent["reply_id"]
        conversation_id = sent["conversation_id"]
        assert sent["message"]["body"] == "Summarize today's news"
        events = await stream.wait(lambda es: ended(es, reply_id, "done"), timeout=60)
    finally:
        await stream.close()
    mine = chat_events(events, reply_id)
    assert [e.data["seq"] for e in mine] == list(range(1, len(mine) + 1))
    assert all(e.id == "" for e in mine)  # transient: the feed's ids are untouched
    kinds = [e.data["kind"] for e in mine]
    assert (kinds[0], kinds[-1]) == ("started", "done")
    assert "delta" in kinds
    typed = "".join(e.data["detail"]["text"] for e in mine if e.data["kind"] == "delta")
    final = mine[-1].data["detail"]["text"]
    assert typed == final
    [call] = [e.data["detail"]["call"] for e in mine if e.data["kind"] == "tool_call"]
    assert (call["name"], call["arguments"]) == ("create_task", {"goal": "Summarize today's news"})

    # After the fact, the thread holds the message, the tool call and result, and the reply
    # (with the ids the live events named), and the task it started reports there too.
    thread = await ada.wait_messages(conversation_id, thread_has("chat_reply"), timeout=60)
    by_kind = {m["kind"]: m for m in thread if m["kind"] != "text" or m["role"] == "user"}
    assert by_kind["text"]["body"] == "Summarize today's news"
    assert by_kind["chat_reply"]["body"] == final
    assert by_kind["tool_call"]["data"]["call"]["name"] == "create_task"
    assert by_kind["tool_result"]["data"]["ok"] is True
    live_ids = {e.data["id"] for e in mine}
    assert {
        by_kind[k]["message_id"] for k in ("tool_call", "tool_result", "chat_reply")
    } <= live_ids
    order = [m["kind"] for m in thread]
    assert order.index("text") < order.index("tool_call") < order.index("chat_reply")
    await ada.wait_messages(conversation_id, thread_has("task_completed"), timeout=60)

    history = await ada.ok("GET", f"/api/v1/chat/{conversation_id}")
    assert [t["role"] for t in history["turns"]] == ["user", "assistant", "tool", "assistant"]
    assert history["replies"][0]["status"] == "completed"
    listed = await ada.ok("GET", "/api/v1/conversations")
    assert [c["conversation_id"] for c in listed["conversations"]] == [conversation_id]

    # The same message id again is the same message: Flux is not asked twice.
    again = await ada.ok(
        "POST",
        f"/api/v1/chat/{conversation_id}",
        202,
        json={"text": "hello", "message_id": "m-1"},
    )
    twice = await ada.ok(
        "POST",
        f"/api/v1/chat/{conversation_id}",
        202,
        json={"text": "hello", "message_id": "m-1"},
    )
    assert twice["reply_id"] == again["reply_id"]
    conflict = await ada.http.post(
        f"/api/v1/chat/{conversation_id}", json={"text": "other", "message_id": "m-1"}
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "inbox.chat_message_conflict"
    thread = await ada.wait_messages(conversation_id, thread_has("chat_reply", 2), timeout=60)
    assert [m["body"] for m in thread if m["role"] == "user"] == ["Summarize today's news", "hello"]


async def test_an_approval_gated_tool_waits_for_the_person(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    stream = SseClient(ada.http)
    await stream.open()
    try:
        sent = await ada.ok(
            "POST", "/api/v1/chat", 202, json={"text": "Email bob@example.com: lunch is at one"}
        )
        reply_id, conversation_id = sent["reply_id"], sent["conversation_id"]
        events = await stream.wait(lambda es: ended(es, reply_id, "approval_needed"), timeout=60)
        approval = chat_events(events, reply_id)[-1].data["detail"]["approval"]
        assert approval["tool"] == "send_notification"
        thread = await ada.wait_messages(conversation_id, thread_has("chat_approval"))
        [card] = [m for m in thread if m["kind"] == "chat_approval"]
        assert card["data"]["status"] == "pending"
        assert "bob@example.com" in card["body"]
        # It waits for the person like a checkpoint: the conversation needs them.
        waiting = await ada.ok("GET", "/api/v1/conversations", params={"priority": "attention"})
        assert [c["conversation_id"] for c in waiting["conversations"]] == [conversation_id]
        assert not [m for m in platform.mailbox.sent if m.to.address == "bob@example.com"]

        path = f"/api/v1/chat/{conversation_id}/approvals/{approval['approval_id']}"
        unknown = await ada.http.post(
            f"/api/v1/chat/{conversation_id}/approvals/nope", json={"approved": True}
        )
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "inbox.not_found"
        answered = await ada.ok("POST", path, json={"approved": True})
        assert answered == {
            "reply_id": reply_id,
            "approval_id": approval["approval_id"],
            "status": "approved",
        }
        await stream.wait(lambda es: ended(es, reply_id, "done"), timeout=60)
    finally:
        await stream.close()
    again = await ada.http.post(path, json={"approved": False})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "inbox.approval_not_pending"
    thread = await ada.wait_messages(
        conversation_id,
        lambda ms: (
            any(m["kind"] == "chat_approval" and m["data"]["status"] == "approved" for m in ms)
            and thread_has("chat_reply")(ms)
        ),
    )
    assert [m.to.address for m in platform.mailbox.sent if m.to.address == "bob@example.com"] == [
        "bob@example.com"
    ]


async def test_bad_requests_and_other_orgs_conversations_send_nothing(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    eve = await platform.sign_up("eve")
    sent = await ada.ok("POST", "/api/v1/chat", 202, json={"text": "hello"})
    conversation_id = sent["conversation_id"]
    await ada.wait_messages(conversation_id, thread_has("chat_reply"), timeout=60)

    async def refused(person: Person, path: str, status: int, code: str, **kw: Any) -> None:
        answer = await person.http.post(path, **kw)
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["code"] == code

    await refused(ada, "/api/v1/chat", 422, "inbox.invalid_request", json={"text": ""})
    await refused(ada, "/api/v1/chat", 422, "inbox.invalid_request", json={"text": "   "})
    await refused(ada, "/api/v1/chat", 422, "inbox.invalid_request", json={"txt": "hi"})
    await refused(ada, "/api/v1/chat", 422, "inbox.invalid_request", json={"text": "x" * 20_001})
    await refused(
        ada, "/api/v1/chat", 422, "inbox.invalid_request", json={"text": "hi", "message_id": "a b"}
    )
    await refused(
        ada, "/api/v1/chat/no-such-conversation", 404, "inbox.not_found", json={"text": "hi"}
    )
    # Eve's organisation cannot see, write to, stop or read Ada's conversation.
    path = f"/api/v1/chat/{conversation_id}"
    await refused(eve, path, 404, "inbox.not_found", json={"text": "hi"})
    await refused(eve, path + "/cancel", 404, "inbox.not_found", json={})
    await refused(eve, path + "/approvals/x", 404, "inbox.not_found", json={"approved": True})
    assert (await eve.http.get(path)).status_code == 404
    unsigned = await platform.client().post(path, json={"text": "hi"})
    assert unsigned.status_code == 401

    thread = await ada.ok("GET", f"/api/v1/conversations/{conversation_id}/messages")
    assert [m["body"] for m in thread["messages"] if m["role"] == "user"] == ["hello"]
    history = await ada.ok("GET", path)
    assert [t["text"] for t in history["turns"] if t["role"] == "user"] == ["hello"]
    assert (await eve.ok("GET", "/api/v1/conversations"))["conversations"] == []
    # Cancelling a reply that already finished changes nothing.
    state = await ada.ok("POST", path + "/cancel", json={"reply_id": sent["reply_id"]})
    assert state["status"] == "completed"


async def test_moving_on_declines_the_waiting_approval(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    sent = await ada.ok(
        "POST", "/api/v1/chat", 202, json={"text": "Email bob@example.com: lunch is at one"}
    )
    conversation_id = sent["conversation_id"]
    await ada.wait_messages(conversation_id, thread_has("chat_approval"), timeout=60)
    await ada.ok("POST", f"/api/v1/chat/{conversation_id}", 202, json={"text": "hello"})

    def settled(ms: list[Any]) -> bool:
        cards = [m for m in ms if m["kind"] == "chat_approval"]
        return bool(cards) and cards[0]["data"]["status"] == "declined"

    thread = await ada.wait_messages(
        conversation_id, lambda ms: settled(ms) and thread_has("chat_reply", 2)(ms), timeout=60
    )
    stopped = [m for m in thread if m["kind"] == "chat_reply"]
    assert [m["data"]["status"] for m in stopped] == ["cancelled", "complete"]
    conversation = await ada.ok("GET", f"/api/v1/conversations/{conversation_id}")
    assert conversation["priority"] == "normal"
    assert not [m for m in platform.mailbox.sent if m.to.address == "bob@example.com"]


async def test_a_client_that_missed_the_live_reply_still_gets_all_of_it(
    platform: Platform,
) -> None:
    ada = await platform.sign_up("ada")
    first = SseClient(ada.http)
    await first.open()
    sent = await ada.ok("POST", "/api/v1/chat", 202, json={"text": "What can you do?"})
    seen = await first.wait(lambda es: any(e.event == "message" for e in es))
    await first.close()  # gone before the reply is typed
    conversation_id = sent["conversation_id"]
    thread = await ada.wait_messages(conversation_id, thread_has("chat_reply"), timeout=60)
    [answer] = [m for m in thread if m["kind"] == "chat_reply"]

    # Reconnecting from the last id it saw, it reads what lasts from the feed: the reply whole.
    last = [e for e in seen if e.id][-1]
    second = SseClient(ada.http, last_event_id=last.id)
    await second.open()
    try:
        events = await second.wait(
            lambda es: any(
                e.event == "message" and e.data["data"]["message"]["kind"] == "chat_reply"
                for e in es
            )
        )
    finally:
        await second.close()
    messages = [e.data["data"]["message"] for e in events if e.event == "message"]
    assert [m["kind"] for m in messages] == ["tool_call", "tool_result", "chat_reply"]
    assert messages[-1]["body"] == answer["body"]
    assert answer["body"].startswith("Here is what I can put to work for you:")
    assert not [e for e in events if e.event == "chat"]  # the live events are not replayed


async def test_the_reply_reaches_streams_on_every_replica(platform: Platform) -> None:
    """Sent through one replica, the reply streams to a person connected to another: each
    replica follows Flux's events itself, nothing ties a conversation to a replica."""
    other = await platform.start_inbox()
    ada = await platform.sign_up("ada")
    elsewhere = platform.client(other, headers={"Authorization": f"Bearer {ada.access}"})
    stream = SseClient(elsewhere)
    await stream.open()
    try:
        sent = await ada.ok("POST", "/api/v1/chat", 202, json={"text": "hello"})
        events = await stream.wait(lambda es: ended(es, sent["reply_id"], "done"), timeout=60)
        await stream.wait(
            lambda es: any(
                e.event == "message" and e.data["data"]["message"]["kind"] == "chat_reply"
                for e in es
            ),
            timeout=60,
        )
    finally:
        await stream.close()
    mine = chat_events(events, sent["reply_id"])
    assert [e.data["seq"] for e in mine] == list(range(1, len(mine) + 1))
    # Stopping and reading work through either replica too.
    idle = await elsewhere.post(f"/api/v1/chat/{sent['conversation_id']}/cancel", json={})
    assert idle.status_code == 404  # nothing is streaming
    assert idle.json()["error"]["code"] == "tentacle.chat_reply_not_found"
    state = await elsewhere.post(
        f"/api/v1/chat/{sent['conversation_id']}/cancel", json={"reply_id": sent["reply_id"]}
    )
    assert state.json()["status"] == "completed"
    history = await elsewhere.get(f"/api/v1/chat/{sent['conversation_id']}")
    assert history.json()["replies"][0]["status"] == "completed"


async def test_a_declined_approval_sends_nothing(platform: Platform) -> None:
    ada = await platform.sign_up("ada")
    sent = await ada.ok(
        "POST", "/api/v1/chat", 202, json={"text": "Email bob@example.com: lunch is at one"}
    )
    conversation_id = sent["conversation_id"]
    thread = await ada.wait_messages(conversation_id, thread_has("chat_approval"), timeout=60)
    [card] = [m for m in thread if m["kind"] == "chat_approval"]
    approval_id = card["data"]["approval"]["approval_id"]
    answered = await ada.ok(
        "POST",
        f"/api/v1/chat/{conversation_id}/approvals/{approval_id}",
        json={"approved": False, "feedback": "not to him"},
    )
    assert answered["status"] == "declined"

    def declined(ms: list[Any]) -> bool:
        cards = [m for m in ms if m["kind"] == "chat_approval"]
        return bool(cards[0]["data"]["status"] == "declined" and thread_has("chat_reply")(ms))

    thread = await ada.wait_messages(conversation_id, declined, timeout=60)
    [result] = [m for m in thread if m["kind"] == "tool_result"]
    assert result["data"]["ok"] is False
    assert result["data"]["error"]["code"] == "tentacle.tool_declined"
    assert "not to him" in result["data"]["error"]["message"]
    assert not [m for m in platform.mailbox.sent if m.to.address == "bob@example.com"]
