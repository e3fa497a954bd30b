"""Tools of prompt-defined agents: the model calls built-in agents (litellm's real HTTP path
against the stub), sees their results, answers; risky calls are refused, not made."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.tentacle.memory import MEMORY_STORE, MemoryTier, StoreMemoryV1
from contracts.tentacle.models import RegisterAgentV1, TaskRefV1, TaskStatus
from contracts.tentacle.subjects import AGENT_REGISTER, TASK_COST
from shared.bus import RemoteError
from shared.testing.llm_stub import OpenAIStub, Scripted
from tests.tentacle.conftest import Caller, Start
from tests.tentacle.site import Site
from tests.tentacle.test_planning import model

RESEARCHER = """
name: researcher
domain: research
description: Answers a question, reading web pages as it needs.
runtime: llm
task_type: research
tools: [http_fetch]
system_prompt: Answer the question; fetch pages to find out.
inputs:
  type: object
  required: [question]
  properties:
    question: {type: string}
outputs:
  type: object
  required: [answer]
  properties:
    answer: {type: string}
"""


def tool_results(request: dict[str, Any]) -> list[Any]:
    return [json.loads(m["content"]) for m in request["messages"] if m["role"] == "tool"]


async def test_an_agent_calls_its_tools_and_answers_from_them(
    start_tentacle: Start, caller: Caller, site: Site, llm_stub: OpenAIStub
) -> None:
    await start_tentacle(http_allow_private=True, llm=model(llm_stub, research="openai/gpt-4o"))
    for wrong in ("teleport", "summarize"):  # unknown; a model, not a tool
        bad = RESEARCHER.replace("tools: [http_fetch]", f"tools: [{wrong}]")
        with pytest.raises(RemoteError) as refused:
            await caller.ask(AGENT_REGISTER, RegisterAgentV1(yaml=bad))
        assert refused.value.code == "tentacle.agent_invalid"
    await caller.ask(AGENT_REGISTER, RegisterAgentV1(yaml=RESEARCHER))
    llm_stub.enqueue(
        Scripted(
            text=None,
            tool_calls=[
                ("http_fetch", {"url": f"{site.url}/article"}),
                ("http_fetch", {"url": f"{site.url}/orders", "method": "POST"}),
                ("teleport", {}),
            ],
        ),
        Scripted(text=json.dumps({"answer": "the Moon pulls the sea"})),
    )
    plan = {"steps": [{"id": "ask", "agent": "researcher", "inputs": {"question": "tides?"}}]}
    task = await caller.create("why tides", plan=plan)
    done = await caller.wait(task.task_id, timeout=30)
    assert done.task.status is TaskStatus.COMPLETED, done.steps
    assert done.task.result == {"answer": "the Moon pulls the sea"}

    first, second = llm_stub.requests[-2:]
    assert [t["function"]["name"] for t in first["tools"]] == ["http_fetch"]
    fetched, refused, unknown = tool_results(second)
    assert "gravitational pull of the Moon" in fetched["output"]["text"]
    assert "approval" in refused["error"]  # a POST needs a person: never made as a tool call
    assert "no tool named teleport" in unknown["error"]
    assert not site.posts

    # The tool call is a node of the execution tree, under the step that made it.
    cost = await caller.ask(TASK_COST, TaskRefV1(task_id=task.task_id))
    kinds = [n.kind.value for n in cost.calls]
    assert kinds.count("llm") == 2
    [step] = [n for n in cost.calls if n.kind.value == "step"]
    [tool] = [n for n in cost.calls if n.kind.value == "tool"]
    assert tool.name == "agent.http_fetch"
    assert tool.parent_call_id == step.call_id
    assert tool.call_id != step.call_id


async def test_an_agent_may_name_its_own_model(
    start_tentacle: Start, caller: Caller, llm_stub: OpenAIStub
) -> None:
    # Real providers are on (a model for planning is configured); "research" has none of its
    # own, so the agent's choice is used.
    await start_tentacle(llm=model(llm_stub, plan="openai/gpt-4o"))
    own = RESEARCHER.replace("tools: [http_fetch]", "model: openai/gpt-4o-mini")
    await caller.ask(AGENT_REGISTER, RegisterAgentV1(yaml=own))
    llm_stub.enqueue(Scripted(text=json.dumps({"answer": "because"})))
    plan = {"steps": [{"id": "ask", "agent": "researcher", "inputs": {"question": "why?"}}]}
    done = await caller.wait((await caller.create("why", plan=plan)).task_id, timeout=30)
    assert done.task.status is TaskStatus.COMPLETED, done.steps
    assert llm_stub.requests[-1]["model"] == "gpt-4o-mini"


async def test_an_agent_prompt_carries_the_organisations_memory(
    start_tentacle: Start, caller: Caller, llm_stub: OpenAIStub
) -> None:
    await start_tentacle(llm=model(llm_stub, research="openai/gpt-4o"))
    core = StoreMemoryV1(
        key="core:house-style",
        title="House style",
        body="Answer in British English.",
        tier=MemoryTier.CORE,
    )
    tides = StoreMemoryV1(
        key="fact:tides", title="Tides", body="Spring tides follow the full and new moon."
    )
    unrelated = StoreMemoryV1(key="fact:lunch", title="Lunch", body="Canteen opens at noon.")
    for memory in (core, tides, unrelated):
        await caller.ask(MEMORY_STORE, memory)
    await caller.ask(AGENT_REGISTER, RegisterAgentV1(yaml=RESEARCHER))
    llm_stub.enqueue(Scripted(text=json.dumps({"answer": "the Moon"})))
    plan = {"steps": [{"id": "ask", "agent": "researcher", "inputs": {"question": "tides?"}}]}
    done = await caller.wait((await caller.create("tides", plan=plan)).task_id, timeout=30)
    assert done.task.status is TaskStatus.COMPLETED, done.steps

    system = llm_stub.requests[-1]["messages"][0]["content"]
    assert system.startswith("Answer the question; fetch pages to find out.")
    # Core memory always, the archival memory the inputs are about, nothing else.
    assert "Answer in British English." in system
    assert "Spring tides follow the full and new moon." in system
    assert "Canteen" not in system
    assert system.index("British English") < system.index("Spring tides")
