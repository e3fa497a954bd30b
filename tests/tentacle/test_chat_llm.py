"""Flux with a real model's HTTP path: litellm streams from a local OpenAI-compatible stub with
scripted answers and tool calls; tentacle runs on the real servers. Bad tool calls, another
organisation's ids, cancelling mid-stream, budgets and the prompt's shape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from contracts.ids import new_id
from contracts.mimic.models import action_id
from contracts.tentacle.chat import (
    CHAT_RESPOND,
    ChatEventKind,
    ChatRole,
    ReplyStatus,
    RespondChatApprovalV1,
    TurnStatus,
)
from contracts.tentacle.models import ListCapabilitiesV1, ListTasksV1, TaskStatus
from contracts.tentacle.subjects import CAPABILITIES_LIST, TASK_LIST
from shared.bus import Bus, RemoteError
from shared.llm import LLMSettings
from shared.testing.llm_stub import OpenAIStub, Scripted
from tentacle.domain.flux_prompt import static_prefix
from tentacle.domain.flux_tools import TOOLS
from tests.tentacle.chat_client import ChatClient, text_of, tool_results
from tests.tentacle.conftest import ORG, OTHER_ORG, USER, Caller, Start
from tests.tentacle.test_triggers import action_commands

MODEL = "openai/gpt-4o-mini"


def llm(stub: OpenAIStub, **more: str) -> LLMSettings:
    # Only Flux talks to the stub; tasks it starts plan and run offline.
    return LLMSettings(
        models={"chat": MODEL, **more}, api_base=stub.base_url, api_key=SecretStr("sk-test")
    )


@pytest.fixture
async def chat(start_tentacle: Start, llm_stub: OpenAIStub, bus: Bus) -> AsyncIterator[ChatClient]:
    await start_tentacle(llm=llm(llm_stub))
    async with ChatClient(bus, ORG, USER, "conv-" + new_id()) as client:
        yield client


def chat_requests(stub: OpenAIStub) -> list[dict[str, Any]]:
    return [r for r in stub.requests if "messages" in r]


async def test_a_tool_call_streams_runs_and_is_fed_back(
    chat: ChatClient, llm_stub: OpenAIStub, caller: Caller
) -> None:
    llm_stub.enqueue(
        Scripted(
            text="Starting that now.", tool_calls=[("create_task", {"goal": "Summarize news"})]
        ),
        Scripted(text="Your task is running and will report here."),
    )
    reply = await chat.send("Summarize today's news please")
    events = await chat.until(reply, {ChatEventKind.DONE})

    assert chat.kinds(reply)[0] is ChatEventKind.STARTED
    assert events[0].detail.kind == "started"
    assert events[0].detail.model == MODEL
    assert not events[0].detail.offline
    deltas = [e.detail.text for e in events if e.detail.kind == "delta"]
    assert len(deltas) > 4  # token by token, not one block
    said = "Starting that now. Your task is running and will report here."
    assert "".join(deltas).split() == said.split(" ")
    [result] = tool_results(events)
    assert result.ok
    [task] = (await caller.ask(TASK_LIST, ListTasksV1(conversation_id=chat.conversation_id))).tasks
    assert task.task_id == result.result["task_id"]
    assert task.goal == "Summarize news"
    done = events[-1].detail
    assert done.kind == "done"
    assert float(done.cost_usd) > 0  # priced from litellm's model map

    first, second = chat_requests(llm_stub)
    assert first["stream"] is True
    assert {t["function"]["name"] for t in first["tools"]} == {t.name for t in TOOLS}
    # The cacheable prefix is the same in every call; the volatile context comes last.
    assert first["messages"][0] == {"role": "system", "content": static_prefix()}
    assert second["messages"][0] == first["messages"][0]
    assert first["messages"][-1]["role"] == "system"
    assert "## Tasks in this conversation" in first["messages"][-1]["content"]
    assert task.task_id in second["messages"][-1]["content"]
    assert first["messages"][1] == {"role": "user", "content": "Summarize today's news please"}
    tool_message = second["messages"][-2]
    assert tool_message["role"] == "tool"
    assert task.task_id in tool_message["content"]


async def test_invalid_tool_calls_get_a_clear_error_and_change_nothing(
    chat: ChatClient, llm_stub: OpenAIStub, caller: Caller
) -> None:
    llm_stub.enqueue(
        Scripted(
            text=None,
            tool_calls=[
                ("create_task", {"goal": 5}),
                ("create_task", "{not json"),
                ("create_task", {"goal": "x", "shell": "rm -rf /"}),
                ("launch_missiles", {}),
                ("send_notification", {"to": "not-an-address", "subject": "s", "body": "b"}),
            ],
        ),
        Scripted(text="Sorry, I could not do that."),
    )
    reply = await chat.send("do something odd")
    events = await chat.until(reply, {ChatEventKind.DONE})
    results = tool_results(events)
    assert [r.ok for r in results] == [False] * 5
    assert [r.error.code for r in results if r.error] == [
        "tentacle.tool_arguments_invalid",
        "tentacle.tool_arguments_invalid",
        "tentacle.tool_arguments_invalid",
        "tentacle.tool_unknown",
        "tentacle.tool_arguments_invalid",
    ]
    assert results[0].error is not None
    assert "goal" in results[0].error.message
    # No approval was asked for a call that could never run, and nothing was created.
    assert ChatEventKind.APPROVAL_NEEDED not in chat.kinds(reply)
    assert (await caller.ask(TASK_LIST, ListTasksV1())).tasks == []
    fed_back = [m for m in chat_requests(llm_stub)[1]["messages"] if m["role"] == "tool"]
    assert len(fed_back) == 5
    assert all("tentacle.tool_" in m["content"] for m in fed_back)
    assert text_of(events).strip() == "Sorry, I could not do that."


async def test_another_organisations_ids_are_not_found(
    chat: ChatClient, llm_stub: OpenAIStub, stranger: Caller, bus: Bus
) -> None:
    theirs = await stranger.create("their secret task")
    llm_stub.enqueue(
        Scripted(
            text=None,
            tool_calls=[
                ("get_task_status", {"task_id": theirs.task_id}),
                (
                    "approve_checkpoint",
                    {"task_id": theirs.task_id, "checkpoint_id": "cp-1", "action": "approve"},
                ),
                ("workspace_query", {"query": "task_details", "task_id": theirs.task_id}),
            ],
        ),
        Scripted(text="I can't find that task."),
    )
    reply = await chat.send(f"status of {theirs.task_id}?")
    events = await chat.until(reply, {ChatEventKind.DONE})
    codes = [r.error.code for r in tool_results(events) if r.error]
    assert codes == ["tentacle.task_not_found"] * 3
    assert theirs.goal not in str(chat_requests(llm_stub)[1]["messages"])

    # Their side cannot see, cancel or answer in our conversation either.
    async with ChatClient(bus, OTHER_ORG, stranger.actor, chat.conversation_id) as other:
        assert (await other.history()).turns == []
        with pytest.raises(RemoteError) as caught:
            await other.cancel(reply)
        assert caught.value.code == "tentacle.chat_reply_not_found"
    mine = await chat.history()
    assert [t.role for t in mine.turns] == [
        ChatRole.USER,
        ChatRole.ASSISTANT,
        ChatRole.TOOL,
        ChatRole.TOOL,
        ChatRole.TOOL,
        ChatRole.ASSISTANT,
    ]


async def test_cancel_mid_stream_keeps_the_partial_answer_and_the_next_turn_works(
    chat: ChatClient, llm_stub: OpenAIStub
) -> None:
    words = " ".join(f"word{i}" for i in range(200))
    llm_stub.enqueue(Scripted(text=words, word_delay=0.05), Scripted(text="Sure, short then."))
    reply = await chat.send("Tell me a long story")
    await chat.until(reply, {ChatEventKind.DELTA}, count=3)
    state = await chat.cancel()
    assert state.reply_id == reply
    events = await chat.until(reply, {ChatEventKind.CANCELLED})
    cancelled = events[-1].detail
    assert cancelled.kind == "cancelled"
    streamed = text_of(events)
    assert cancelled.partial_text == streamed
    assert 0 < len(streamed.split()) < 200
    assert ChatEventKind.DONE not in chat.kinds(reply)
    history = await chat.history()
    assert history.replies[0].status is ReplyStatus.CANCELLED
    last = history.turns[-1]
    assert (last.role, last.status, last.text) == (
        ChatRole.ASSISTANT,
        TurnStatus.CANCELLED,
        streamed,
    )
    # Cancelling again is harmless; the conversation carries on.
    assert (await chat.cancel(reply)).status is ReplyStatus.CANCELLED
    following = await chat.send("Make it short")
    events = await chat.until(following, {ChatEventKind.DONE})
    assert text_of(events).strip() == "Sure, short then."
    sent = chat_requests(llm_stub)[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "system"]
    assert sent[2]["content"].endswith("[cancelled by the user]")


async def test_no_model_call_over_the_budget(
    start_tentacle: Start, llm_stub: OpenAIStub, bus: Bus
) -> None:
    await start_tentacle(llm=llm(llm_stub), daily_org_budget_usd="0")
    async with ChatClient(bus, ORG, USER, "conv-" + new_id()) as chat:
        reply = await chat.send("hello")
        events = await chat.until(reply)
    error = events[-1].detail
    assert error.kind == "error"
    assert error.error.code == "llm.budget_exceeded"
    assert chat_requests(llm_stub) == []
    assert ChatEventKind.DELTA not in chat.kinds(reply)


async def test_web_search_without_a_provider_says_so(
    chat: ChatClient, llm_stub: OpenAIStub
) -> None:
    llm_stub.enqueue(
        Scripted(text=None, tool_calls=[("web_search", {"query": "fluxos news"})]),
        Scripted(text="Web search is not set up here."),
    )
    reply = await chat.send("search the web for fluxos news")
    events = await chat.until(reply, {ChatEventKind.DONE})
    [result] = tool_results(events)
    assert not result.ok
    assert result.error is not None
    assert result.error.code == "tentacle.tool_not_configured"
    assert len(chat_requests(llm_stub)) == 2  # no search model was asked


async def test_web_search_through_its_configured_model(
    start_tentacle: Start, llm_stub: OpenAIStub, bus: Bus
) -> None:
    await start_tentacle(llm=llm(llm_stub, web_search=MODEL))
    llm_stub.enqueue(
        Scripted(text=None, tool_calls=[("web_search", {"query": "fluxos release"})]),
        Scripted(text="fluxos 1.0 shipped today. Source: https://example.org/fluxos"),
        Scripted(text="It shipped today (https://example.org/fluxos)."),
    )
    async with ChatClient(bus, ORG, USER, "conv-" + new_id()) as chat:
        reply = await chat.send("search the web: did fluxos ship?")
        events = await chat.until(reply, {ChatEventKind.DONE})
    [result] = tool_results(events)
    assert result.ok
    assert result.result["answer"].startswith("fluxos 1.0 shipped today.")
    search = chat_requests(llm_stub)[1]
    assert "stream" not in search or not search["stream"]
    assert search["messages"][-1] == {"role": "user", "content": "fluxos release"}


async def test_bad_approval_answers_change_nothing(
    chat: ChatClient, llm_stub: OpenAIStub, bus: Bus
) -> None:
    llm_stub.enqueue(
        Scripted(
            text=None,
            tool_calls=[
                ("send_notification", {"to": "ada@example.com", "subject": "Hi", "body": "Hello"})
            ],
        ),
        Scripted(text="Sent."),
    )
    reply = await chat.send("email ada")
    events = await chat.until(reply, {ChatEventKind.APPROVAL_NEEDED})
    approval = events[-1].detail
    assert approval.kind == "approval_needed"
    # Another organisation answering, and an unknown approval id, are refused.
    await bus.publish(
        CHAT_RESPOND,
        RespondChatApprovalV1(
            conversation_id=chat.conversation_id,
            reply_id=reply,
            approval_id=approval.approval.approval_id,
            approved=True,
        ),
        org_id=OTHER_ORG,
    )
    await chat.respond(reply, "not-the-approval", approved=True)
    await asyncio.sleep(1.0)
    [state] = (await chat.history()).replies
    assert state.status is ReplyStatus.AWAITING_APPROVAL
    assert len(chat_requests(llm_stub)) == 1
    # A new message moves on: the waiting call is declined, never run.
    llm_stub.enqueue(Scripted(text="Okay."))
    following = await chat.send("never mind")
    await chat.until(following, {ChatEventKind.DONE})
    assert chat.kinds(reply)[-1] is ChatEventKind.CANCELLED
    history = await chat.history()
    declined = [t for t in history.turns if t.role is ChatRole.TOOL]
    assert len(declined) == 1
    assert declined[0].status is TurnStatus.FAILED
    assert "tentacle.tool_declined" in str(declined[0].result)


async def test_tasks_it_started_report_into_the_next_turn(
    chat: ChatClient, llm_stub: OpenAIStub, caller: Caller
) -> None:
    llm_stub.enqueue(
        Scripted(text=None, tool_calls=[("create_task", {"goal": "Summarize: the sky is blue"})]),
        Scripted(text="Started."),
    )
    reply = await chat.send("summarize: the sky is blue")
    events = await chat.until(reply, {ChatEventKind.DONE})
    [result] = tool_results(events)
    done = await caller.wait(result.result["task_id"])
    assert done.task.status is TaskStatus.COMPLETED
    llm_stub.enqueue(Scripted(text="It finished."))
    following = await chat.send("how did it go?")
    await chat.until(following, {ChatEventKind.DONE})
    context = chat_requests(llm_stub)[-1]["messages"][-1]["content"]
    assert f"`{done.task.task_id}` completed" in context
    assert done.task.summary is not None
    assert done.task.summary[:50] in context


async def test_an_agent_that_would_replace_a_built_in_one_is_refused(
    chat: ChatClient, llm_stub: OpenAIStub, caller: Caller
) -> None:
    llm_stub.enqueue(
        Scripted(
            text=None,
            tool_calls=[
                ("create_agent", {"name": "summarize", "description": "Summarizes, but mine."})
            ],
        ),
        Scripted(text="That name is taken."),
    )
    reply = await chat.send("make my own summarize agent")
    events = await chat.until(reply, {ChatEventKind.DONE})
    [result] = tool_results(events)
    assert not result.ok
    assert result.error is not None
    assert result.error.code == "tentacle.agent_invalid"
    found = await caller.ask(CAPABILITIES_LIST, ListCapabilitiesV1(query="summarize"))
    assert [c.builtin for c in found.capabilities if c.name == "summarize"] == [True]


async def test_a_reply_cut_off_by_a_stopping_replica_is_finished_by_another(
    start_tentacle: Start, llm_stub: OpenAIStub, bus: Bus
) -> None:
    first = await start_tentacle(llm=llm(llm_stub))
    words = " ".join(f"word{i}" for i in range(300))
    llm_stub.enqueue(Scripted(text=words, word_delay=0.05), Scripted(text="The whole answer."))
    async with ChatClient(bus, ORG, USER, "conv-" + new_id()) as chat:
        reply = await chat.send("Tell me everything")
        await chat.until(reply, {ChatEventKind.DELTA}, count=3)
        await first.stop()  # hands the message back at once
        await start_tentacle(llm=llm(llm_stub))
        events = await chat.until(reply, {ChatEventKind.DONE})
    assert chat.collisions == []
    starts = [e for e in events if e.detail.kind == "started"]
    assert len(starts) == 2
    again = starts[1].detail
    assert again.kind == "started"
    assert again.discard_after_seq == starts[0].seq
    kept = [e for e in events if e.seq <= again.discard_after_seq or e.seq > starts[1].seq]
    assert text_of(kept).strip() == "The whole answer."
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    history = await chat.history()
    assert [(t.role, t.text.strip()) for t in history.turns] == [
        (ChatRole.USER, "Tell me everything"),
        (ChatRole.ASSISTANT, "The whole answer."),
    ]


async def test_a_message_sent_while_a_reply_streams_is_answered_after_it(
    chat: ChatClient, llm_stub: OpenAIStub
) -> None:
    words = " ".join(f"w{i}" for i in range(40))
    llm_stub.enqueue(Scripted(text=words, word_delay=0.05), Scripted(text="Second answer."))
    first = await chat.send("first question")
    await chat.until(first, {ChatEventKind.DELTA})
    second = await chat.send("second question")
    await chat.until(second, {ChatEventKind.DONE})
    assert chat.kinds(first)[-1] is ChatEventKind.DONE
    history = await chat.history()
    assert [(t.role, t.text.split()[:1]) for t in history.turns] == [
        (ChatRole.USER, ["first"]),
        (ChatRole.ASSISTANT, ["w0"]),
        (ChatRole.USER, ["second"]),
        (ChatRole.ASSISTANT, ["Second"]),
    ]


async def test_cancel_reaches_the_replica_streaming_the_reply(
    start_tentacle: Start, llm_stub: OpenAIStub, bus: Bus
) -> None:
    # Two replicas: the cancel request may land on either; each cancel must stop its reply.
    await start_tentacle(llm=llm(llm_stub))
    await start_tentacle(llm=llm(llm_stub))
    words = " ".join(f"word{i}" for i in range(400))
    for _ in range(4):
        llm_stub.enqueue(Scripted(text=words, word_delay=0.05))
        async with ChatClient(bus, ORG, USER, "conv-" + new_id()) as chat:
            reply = await chat.send("go on and on")
            await chat.until(reply, {ChatEventKind.DELTA}, count=2)
            await chat.cancel(reply)
            events = await chat.until(reply, timeout=30)
            assert events[-1].kind is ChatEventKind.CANCELLED
            assert len(text_of(events).split()) < 300


async def test_sending_through_an_integration_waits_for_approval(
    chat: ChatClient, llm_stub: OpenAIStub, bus: Bus
) -> None:
    send = {
        "action": "send",
        "provider": "discord",
        "action_type": "send_message",
        "content": "Deploy finished",
    }
    llm_stub.enqueue(
        Scripted(text=None, tool_calls=[("integrations", send)]),
        Scripted(text="Posted."),
    )
    reply = await chat.send("post 'Deploy finished' to Discord")
    events = await chat.until(reply, {ChatEventKind.APPROVAL_NEEDED})
    approval = events[-1].detail
    assert approval.kind == "approval_needed"
    assert approval.approval.summary == "send_message via discord: Deploy finished"
    assert await action_commands(bus) == []
    await chat.respond(reply, approval.approval.approval_id, approved=True)
    events = await chat.until(reply, {ChatEventKind.DONE})
    [result] = tool_results(events)
    assert result.ok
    [command] = await action_commands(bus)
    assert command.meta.org_id == ORG
    assert command.data.provider == "discord"
    assert command.data.action.type == "send_message"
    assert command.data.action.text == "Deploy finished"
    assert result.result["action_id"] == action_id(ORG, command.data.idempotency_key)
