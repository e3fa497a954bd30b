"""Flux with the built-in offline model: the documented example requests, end to end over the
real bus and database, through the same tools a real model calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from contracts.ids import new_id
from contracts.tentacle.chat import ChatEventKind, ChatRole, ReplyStatus
from contracts.tentacle.memory import MEMORY_GET, GetMemoryV1
from contracts.tentacle.models import ListCapabilitiesV1, TaskStatus
from contracts.tentacle.subjects import CAPABILITIES_LIST
from shared.bus import Bus
from shared.service import ServiceApp
from tests.tentacle.chat_client import ChatClient, text_of, tool_results
from tests.tentacle.conftest import ORG, USER, Caller


@pytest.fixture
async def chat(tentacle: ServiceApp, bus: Bus) -> AsyncIterator[ChatClient]:
    async with ChatClient(bus, ORG, USER, "conv-" + new_id()) as client:
        yield client


async def test_summarize_todays_news_creates_a_task_that_reports_into_the_conversation(
    chat: ChatClient, caller: Caller
) -> None:
    reply = await chat.send("Summarize today's news")
    events = await chat.until(reply, {ChatEventKind.DONE})

    kinds = chat.kinds(reply)
    assert kinds[0] is ChatEventKind.STARTED
    assert events[0].detail.kind == "started"
    assert events[0].detail.offline
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert ChatEventKind.DELTA in kinds
    calls = [e.detail.call for e in events if e.detail.kind == "tool_call"]
    assert [(c.name, c.arguments) for c in calls] == [
        ("create_task", {"goal": "Summarize today's news"})
    ]
    (result,) = tool_results(events)
    assert result.ok
    task_id = result.result["task_id"]
    done = events[-1].detail
    assert done.kind == "done"
    assert text_of(events) == done.text
    assert task_id in done.text

    task = (await caller.get(task_id)).task
    assert task.conversation_id == chat.conversation_id
    assert task.goal == "Summarize today's news"
    await caller.wait(task_id)

    history = await chat.history()
    assert [t.role for t in history.turns] == [
        ChatRole.USER,
        ChatRole.ASSISTANT,
        ChatRole.TOOL,
        ChatRole.ASSISTANT,
    ]
    assert history.turns[0].text == "Summarize today's news"
    assert history.turns[-1].text == done.text
    assert [t.task_id for t in history.tasks] == [task_id]
    assert history.tasks[0].status is TaskStatus.COMPLETED
    assert history.replies[0].status is ReplyStatus.COMPLETED


async def test_the_same_message_id_twice_makes_one_reply(chat: ChatClient, caller: Caller) -> None:
    message_id = new_id()
    reply = await chat.send("Summarize today's news", message_id=message_id)
    await chat.until(reply, {ChatEventKind.DONE})
    again = await chat.send("Summarize today's news", message_id=message_id)
    assert again == reply
    # A later message is answered after it: by then a duplicate would have been answered too.
    later = await chat.send("hello")
    await chat.until(later, {ChatEventKind.DONE})
    history = await chat.history()
    assert [t.role for t in history.turns].count(ChatRole.USER) == 2
    assert len(history.tasks) == 1
    assert chat.kinds(reply).count(ChatEventKind.DONE) == 1


async def test_create_agent_generates_validates_and_registers_an_agent(
    chat: ChatClient, caller: Caller
) -> None:
    reply = await chat.send("Create an agent that turns meeting notes into action items")
    events = await chat.until(reply, {ChatEventKind.DONE})
    [result] = tool_results(events)
    assert result.ok
    name = result.result["name"]
    assert name == "turns_meeting_notes"
    found = await caller.ask(CAPABILITIES_LIST, ListCapabilitiesV1(query="meeting"))
    [agent] = [c for c in found.capabilities if c.name == name]
    assert not agent.builtin
    # And it is what task_capabilities reports from now on.
    listed = await chat.send("What can you do?")
    events = await chat.until(listed, {ChatEventKind.DONE})
    [caps] = tool_results(events)
    assert name in {c["name"] for c in caps.result["capabilities"]}


async def test_memory_is_stored_recalled_and_offered_in_the_prompt(
    chat: ChatClient, caller: Caller
) -> None:
    stored = await chat.send("Remember that the quarterly report goes to finance@acme.test")
    events = await chat.until(stored, {ChatEventKind.DONE})
    [result] = tool_results(events)
    assert result.ok, result
    key = result.result["key"]
    memory = await caller.ask(MEMORY_GET, GetMemoryV1(key=key))
    assert memory.body == "that the quarterly report goes to finance@acme.test"

    recalled = await chat.send("What do you remember about the quarterly report?")
    events = await chat.until(recalled, {ChatEventKind.DONE})
    [found] = tool_results(events)
    assert found.ok
    assert [m["key"] for m in found.result["memories"]] == [key]
    assert "finance@acme.test" in text_of(events)
