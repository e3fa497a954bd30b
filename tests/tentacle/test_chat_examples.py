"""The documented example requests, asked of Flux (the offline model) and carried out end to
end: tentacle and mimic running on the real servers, signed webhooks posted to mimic's ingress,
Discord's API and the mail server replaced by local stand-ins."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.ids import new_id
from contracts.mimic.models import (
    IntegrationV1,
)
from contracts.mimic.subjects import INTEGRATION_CREATE
from contracts.tentacle.chat import ChatEventKind, ReplyStatus
from contracts.tentacle.models import ListTasksV1, TaskStatus
from contracts.tentacle.subjects import TASK_LIST
from contracts.tentacle.triggers import TRIGGER_LIST, ListTriggersV1, TriggerListV1
from shared.bus import Bus
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService
from tests.mimic.conftest import mail_in
from tests.mimic.outbound_stubs import Outside
from tests.tentacle.chat_client import ChatClient, text_of, tool_results
from tests.tentacle.chat_world import (
    discord_bot,
    discord_ping,
    discord_stand_in,
    followup_path,
    github_deliveries,
    github_hook,
    seed_calendar,
    start_mimic,
)
from tests.tentacle.conftest import ORG, USER, Caller

APPLICATION = "123456789"
GITHUB_SECRET = "github-hook-secret"


@pytest.fixture
async def chat(tentacle: ServiceApp, bus: Bus) -> AsyncIterator[ChatClient]:
    async with ChatClient(bus, ORG, USER, "conv-" + new_id()) as client:
        yield client


@pytest.fixture
async def discord() -> AsyncIterator[tuple[Outside, str]]:
    async with discord_stand_in() as world:
        yield world


_mimic = start_mimic


async def _triggers(caller: Caller) -> TriggerListV1:
    result: TriggerListV1 = await caller.ask(TRIGGER_LIST, ListTriggersV1())
    return result


async def test_send_a_joke_whenever_someone_uses_ping_on_discord(
    chat: ChatClient,
    caller: Caller,
    running_service: StartService,
    discord: tuple[Outside, str],
) -> None:
    outside, url = discord
    mimic = await _mimic(running_service, url)
    key = Ed25519PrivateKey.generate()
    integration: IntegrationV1 = await caller.ask(INTEGRATION_CREATE, discord_bot(key))

    reply = await chat.send("Send a joke whenever someone uses /ping on Discord")
    events = await chat.until(reply, {ChatEventKind.DONE})

    calls = [e.detail.call for e in events if e.detail.kind == "tool_call"]
    assert [c.name for c in calls] == ["integrations", "create_triggered_task"]
    assert calls[0].arguments == {"action": "list", "provider": "discord"}
    assert calls[1].arguments["integration_id"] == integration.integration_id
    assert calls[1].arguments["event_filter"] == {"command": "ping"}
    assert calls[1].arguments["response_type"] == "discord_followup"
    assert all(r.ok for r in tool_results(events))
    assert text_of(events) == "Done! I'll send a joke whenever someone uses /ping."
    [trigger] = (await _triggers(caller)).triggers
    assert trigger.integration_id == integration.integration_id
    assert trigger.enabled

    # Someone uses /ping: the trigger fires and the task's answer goes back to Discord.
    body, headers = discord_ping(key)
    assert mimic.http_url is not None
    async with httpx.AsyncClient(base_url=mimic.http_url, timeout=10) as http:
        response = await http.post(integration.ingress_path, content=body, headers=headers)
    assert response.json() == {"type": 5}
    path = followup_path()
    deadline = asyncio.get_running_loop().time() + 90
    while not any(call[0] == path for call in outside.calls):
        assert asyncio.get_running_loop().time() < deadline, outside.calls
        await asyncio.sleep(0.1)
    [(_, sent, _)] = [call for call in outside.calls if call[0] == path]
    fired = [
        t for t in (await caller.ask(TASK_LIST, ListTasksV1())).tasks if t.goal == trigger.goal
    ]
    assert len(fired) == 1
    assert fired[0].status is TaskStatus.COMPLETED
    assert sent["content"] == fired[0].summary


async def test_without_a_discord_integration_flux_says_so_and_creates_nothing(
    chat: ChatClient, caller: Caller, running_service: StartService
) -> None:
    await _mimic(running_service)
    reply = await chat.send("Send a joke whenever someone uses /ping on Discord")
    events = await chat.until(reply, {ChatEventKind.DONE})
    assert [e.detail.call.name for e in events if e.detail.kind == "tool_call"] == ["integrations"]
    assert "You don't have Discord connected yet" in text_of(events)
    assert (await _triggers(caller)).triggers == []


async def test_notify_me_when_a_new_issue_is_created_on_github(
    chat: ChatClient, caller: Caller, running_service: StartService
) -> None:
    mimic = await _mimic(running_service)
    hook: IntegrationV1 = await caller.ask(INTEGRATION_CREATE, github_hook())
    reply = await chat.send("Notify me when a new issue is created on GitHub")
    events = await chat.until(reply, {ChatEventKind.DONE})
    assert text_of(events) == "Done! I'll let you know whenever a new issue is created on GitHub."
    [trigger] = (await _triggers(caller)).triggers
    assert trigger.trigger_source.value == "github"
    assert trigger.integration_id == hook.integration_id
    assert trigger.event_type == "issues_opened"

    # A pull request is not an issue: it fires nothing; a new issue fires the trigger once.
    assert mimic.http_url is not None
    async with httpx.AsyncClient(base_url=mimic.http_url, timeout=10) as http:
        for body, headers in github_deliveries():
            response = await http.post(hook.ingress_path, content=body, headers=headers)
            assert response.status_code == 200
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        tasks = (await caller.ask(TASK_LIST, ListTasksV1())).tasks
        if any(t.status is TaskStatus.COMPLETED for t in tasks):
            break
        assert asyncio.get_running_loop().time() < deadline, tasks
        await asyncio.sleep(0.1)
    assert len(tasks) == 1
    assert tasks[0].goal == trigger.goal


async def test_whats_on_my_calendar_tomorrow(chat: ChatClient, caller: Caller) -> None:
    tomorrow = await seed_calendar(caller.ask)
    reply = await chat.send("What's on my calendar tomorrow?")
    events = await chat.until(reply, {ChatEventKind.DONE})
    [call] = [e.detail.call for e in events if e.detail.kind == "tool_call"]
    assert call.name == "workspace_query"
    assert call.arguments["query"] == "events"
    text = text_of(events)
    assert text.startswith(f"Tomorrow ({tomorrow.isoformat()}) you have 2 events:")
    assert text.index("Standup") < text.index("Design review")
    assert "Dentist" not in text
    assert "Offsite" not in text


async def test_an_email_waits_for_approval_and_is_sent_once_approved(
    chat: ChatClient, running_service: StartService, platform_settings: PlatformSettings
) -> None:
    await _mimic(running_service)
    maildir: Path = platform_settings.home / "mail"
    reply = await chat.send("Email ada@example.com: the quarterly report is ready")
    events = await chat.until(reply, {ChatEventKind.APPROVAL_NEEDED})
    approval = events[-1].detail
    assert approval.kind == "approval_needed"
    assert approval.approval.tool == "send_notification"
    assert approval.approval.arguments["to"] == "ada@example.com"
    assert "ada@example.com" in approval.approval.summary
    [state] = (await chat.history()).replies
    assert state.status is ReplyStatus.AWAITING_APPROVAL
    assert state.pending is not None
    await asyncio.sleep(0.5)
    assert mail_in(maildir) == []  # nothing goes out before the user says so

    await chat.respond(reply, approval.approval.approval_id, approved=True)
    events = await chat.until(reply, {ChatEventKind.DONE})
    [result] = tool_results(events)
    assert result.ok
    assert result.result["to"] == "ada@example.com"
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1))  # one numbering across the pause
    deadline = asyncio.get_running_loop().time() + 30
    while not mail_in(maildir):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    [raw] = mail_in(maildir)
    sent = email.message_from_bytes(raw)
    assert sent["To"] == "ada@example.com"
    assert sent.get_payload(decode=True) == b"the quarterly report is ready"


async def test_a_declined_email_is_not_sent(
    chat: ChatClient, running_service: StartService, platform_settings: PlatformSettings
) -> None:
    await _mimic(running_service)
    reply = await chat.send("Email ada@example.com: the quarterly report is ready")
    events = await chat.until(reply, {ChatEventKind.APPROVAL_NEEDED})
    approval = events[-1].detail
    assert approval.kind == "approval_needed"
    await chat.respond(reply, approval.approval.approval_id, approved=False, feedback="not to her")
    events = await chat.until(reply, {ChatEventKind.DONE})
    assert len(tool_results(events)) == 1, [(e.seq, e.detail) for e in events]
    [result] = tool_results(events)
    assert not result.ok
    assert result.error is not None
    assert result.error.code == "tentacle.tool_declined"
    assert "not to her" in result.error.message
    await asyncio.sleep(1.0)
    assert mail_in(platform_settings.home / "mail") == []


async def test_asking_twice_for_the_same_trigger_makes_one(
    chat: ChatClient, caller: Caller, running_service: StartService
) -> None:
    await _mimic(running_service)
    key = Ed25519PrivateKey.generate()
    await caller.ask(INTEGRATION_CREATE, discord_bot(key))
    for _ in range(2):
        reply = await chat.send("Send a joke whenever someone uses /ping on Discord")
        events = await chat.until(reply, {ChatEventKind.DONE})
        assert all(r.ok for r in tool_results(events))
    assert len((await _triggers(caller)).triggers) == 1
