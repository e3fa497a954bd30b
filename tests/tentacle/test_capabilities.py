"""Agents from YAML: seeded at start, discoverable, and organisations' own kept to themselves."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from contracts.tentacle.models import (
    CapabilityKind,
    ListCapabilitiesV1,
    RegisterAgentV1,
    TaskStatus,
)
from contracts.tentacle.subjects import AGENT_REGISTER, CAPABILITIES_LIST
from shared.bus import RemoteError
from shared.service import ServiceApp
from tests.tentacle.conftest import Caller

HAIKU = """
name: haiku
domain: text
description: Writes a haiku about a subject.
runtime: llm
task_type: poetry
system_prompt: |
  You write haiku. Answer {"poem": "..."}.
inputs:
  type: object
  required: [subject]
  properties:
    subject: {type: string}
outputs:
  type: object
  required: [poem]
  properties:
    poem: {type: string}
"""


async def names(caller: Caller, **query: object) -> list[str]:
    found = await caller.ask(CAPABILITIES_LIST, ListCapabilitiesV1.model_validate(query))
    return [c.name for c in found.capabilities]


async def test_built_in_agents_are_seeded_and_filterable(
    tentacle: ServiceApp, caller: Caller
) -> None:
    everything = await names(caller)
    assert everything == [
        "aggregate",
        "analyze",
        "compose",
        "file_storage",
        "http_fetch",
        "noop",
        "notify",
        "summarize",
        "transform",
    ]
    assert await names(caller, kind=CapabilityKind.PRIMITIVE) == [
        "file_storage",
        "http_fetch",
        "noop",
    ]
    assert await names(caller, domain="data") == ["aggregate", "analyze", "transform"]
    assert await names(caller, query="approval") == ["file_storage", "http_fetch", "notify"]
    detailed = await caller.ask(CAPABILITIES_LIST, ListCapabilitiesV1(query="notify", detail=True))
    [notify] = detailed.capabilities
    assert notify.asks_approval
    assert notify.side_effects
    assert notify.input_schema is not None
    assert notify.input_schema["required"] == ["to", "subject", "body"]
    async with tentacle.db.transaction() as uow:  # platform scope sees the built-in rows only
        rows = await uow.session.scalar(text("select count(*) from agents"))
    assert rows == 9


async def test_an_organisations_own_agent_is_theirs_alone_and_runs(
    tentacle: ServiceApp, caller: Caller, stranger: Caller
) -> None:
    registered = await caller.ask(AGENT_REGISTER, RegisterAgentV1(yaml=HAIKU))
    assert registered.name == "haiku"
    assert not registered.builtin
    assert "haiku" in await names(caller)
    assert "haiku" not in await names(stranger)

    plan = {"steps": [{"id": "poem", "agent": "haiku", "inputs": {"subject": "tides"}}]}
    task = await caller.create("a poem", plan=plan)
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.task.result == {"poem": ""}  # the offline model's smallest valid answer
    with pytest.raises(RemoteError) as caught:
        await stranger.create("a poem", plan=plan)
    assert caught.value.code == "tentacle.plan_invalid"
