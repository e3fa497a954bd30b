"""The documented examples asked of Flux from the web UI, in a real headless Chromium, and
carried out end to end: inkpass, tentacle (the offline model), mimic and the inbox running,
Discord's API and GitHub's deliveries played by local stand-ins (tests/tentacle/chat_world.py,
the same ones tests/tentacle/test_chat_examples.py uses over the bus)."""

from __future__ import annotations

import asyncio
import email
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from contracts.envelope import Actor, ActorKind
from contracts.mimic.subjects import INTEGRATION_CREATE
from contracts.tentacle.models import ListTasksV1, TaskStatus
from contracts.tentacle.subjects import TASK_LIST
from contracts.tentacle.triggers import TRIGGER_LIST, ListTriggersV1
from shared.settings import PlatformSettings
from shared.testing.plugin import StartService
from tests.inbox.conftest import Person, Platform
from tests.inbox.test_browser import TIMEOUT_MS, browser, sign_in
from tests.mimic.conftest import mail_in
from tests.mimic.outbound_stubs import Outside
from tests.tentacle.chat_world import (
    Ask,
    discord_bot,
    discord_ping,
    discord_stand_in,
    followup_path,
    github_deliveries,
    github_hook,
    seed_calendar,
    start_mimic,
)

__all__ = ["browser"]  # the module-scoped Chromium of test_browser.py, shared


@pytest.fixture
async def discord() -> AsyncIterator[tuple[Outside, str]]:
    async with discord_stand_in() as world:
        yield world


def asker(platform: Platform, person: Person) -> Ask:
    """Sets up the outside world in the person's organisation, over the bus."""
    actor = Actor(kind=ActorKind.USER, id=person.user_id)

    async def ask(subject: Any, payload: Any) -> Any:
        return await platform.bus.request(
            subject, payload, org_id=person.org_id, actor=actor, timeout=20
        )

    return ask


async def signed_in(platform: Platform, browser: Browser) -> tuple[Person, BrowserContext, Page]:
    person = await platform.sign_up("flux")
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(platform.url + "/login")
    await sign_in(page, person.email)
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    return person, context, page


async def ask_flux(page: Page, text: str) -> str:
    """Ask from the inbox's composer (Enter sends); the new conversation opens."""
    box = page.get_by_label("Ask the agent")
    await box.fill(text)
    await box.press("Enter")
    await expect(page).to_have_url(re.compile(r"/c/[0-9a-f-]+$"))
    await expect(page.locator(".message.user .body")).to_have_text(text)
    return page.url.rsplit("/", 1)[1]


def final_reply(page: Page) -> Locator:
    return page.locator('.message.chat_reply[data-status="complete"] .body')


async def tool_names(page: Page) -> list[str]:
    return [
        t.strip() for t in await page.locator(".message.tool_call .tool-name").all_inner_texts()
    ]


async def wait_until(check: Any, timeout: float = 90.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.2)


async def test_summarize_todays_news(platform: Platform, browser: Browser) -> None:
    _, context, page = await signed_in(platform, browser)
    await ask_flux(page, "Summarize today's news")
    await expect(final_reply(page)).to_contain_text("On it: I started a task to")
    assert await tool_names(page) == ["create_task"]
    await expect(page.locator(".message.tool_result .tool-status")).to_have_text("ok")
    # The task Flux started reports into the same conversation when it is done.
    await expect(page.locator(".message.task_completed")).to_have_count(1)
    # Everything is still there after a reload, once.
    await page.reload()
    await expect(final_reply(page)).to_have_count(1)
    await expect(page.locator(".message.tool_call")).to_have_count(1)
    await expect(page.locator(".message.user")).to_have_count(1)
    await context.close()


async def test_send_a_joke_whenever_someone_uses_ping_on_discord(
    platform: Platform,
    browser: Browser,
    running_service: StartService,
    discord: tuple[Outside, str],
) -> None:
    outside, url = discord
    mimic = await start_mimic(running_service, url)
    person, context, page = await signed_in(platform, browser)
    ask = asker(platform, person)
    key = Ed25519PrivateKey.generate()
    integration = await ask(INTEGRATION_CREATE, discord_bot(key))

    await ask_flux(page, "Send a joke whenever someone uses /ping on Discord")
    await expect(final_reply(page)).to_have_text(
        "Done! I'll send a joke whenever someone uses /ping."
    )
    assert await tool_names(page) == ["integrations", "create_triggered_task"]
    await expect(page.locator(".message.tool_result .tool-status")).to_have_text(["ok", "ok"])

    # Someone uses /ping: the trigger fires and the joke goes back to Discord.
    body, headers = discord_ping(key)
    assert mimic.http_url is not None
    async with httpx.AsyncClient(base_url=mimic.http_url, timeout=10) as http:
        response = await http.post(integration.ingress_path, content=body, headers=headers)
    assert response.json() == {"type": 5}
    path = followup_path()

    async def followed_up() -> list[Any]:
        return [call for call in outside.calls if call[0] == path]

    [(_, sent, _)] = await wait_until(followed_up)
    [trigger] = (await ask(TRIGGER_LIST, ListTriggersV1())).triggers
    assert trigger.integration_id == integration.integration_id
    tasks = (await ask(TASK_LIST, ListTasksV1())).tasks
    [fired] = [t for t in tasks if t.goal == trigger.goal]
    assert fired.status is TaskStatus.COMPLETED
    assert sent["content"] == fired.summary
    await context.close()


async def test_notify_me_when_a_new_issue_is_created_on_github(
    platform: Platform, browser: Browser, running_service: StartService
) -> None:
    mimic = await start_mimic(running_service)
    person, context, page = await signed_in(platform, browser)
    ask = asker(platform, person)
    hook = await ask(INTEGRATION_CREATE, github_hook())

    await ask_flux(page, "Notify me when a new issue is created on GitHub")
    await expect(final_reply(page)).to_have_text(
        "Done! I'll let you know whenever a new issue is created on GitHub."
    )
    assert "create_triggered_task" in await tool_names(page)

    assert mimic.http_url is not None
    async with httpx.AsyncClient(base_url=mimic.http_url, timeout=10) as http:
        for body, headers in github_deliveries():
            response = await http.post(hook.ingress_path, content=body, headers=headers)
            assert response.status_code == 200

    async def completed() -> list[Any]:
        tasks = (await ask(TASK_LIST, ListTasksV1())).tasks
        return [t for t in tasks if t.status is TaskStatus.COMPLETED]

    [task] = await wait_until(completed)
    [trigger] = (await ask(TRIGGER_LIST, ListTriggersV1())).triggers
    assert (trigger.event_type, trigger.integration_id) == ("issues_opened", hook.integration_id)
    assert task.goal == trigger.goal
    assert len((await ask(TASK_LIST, ListTasksV1())).tasks) == 1  # the pull request fired nothing
    await context.close()


async def test_whats_on_my_calendar_tomorrow(platform: Platform, browser: Browser) -> None:
    person, context, page = await signed_in(platform, browser)
    tomorrow = await seed_calendar(asker(platform, person))
    await ask_flux(page, "What's on my calendar tomorrow?")
    reply = final_reply(page)
    await expect(reply).to_contain_text(f"Tomorrow ({tomorrow.isoformat()}) you have 2 events:")
    text = await reply.inner_text()
    assert text.index("Standup") < text.index("Design review")
    assert "Dentist" not in text
    assert await tool_names(page) == ["workspace_query"]
    await context.close()


async def test_an_email_waits_for_the_approve_button(
    platform: Platform,
    browser: Browser,
    running_service: StartService,
    platform_settings: PlatformSettings,
) -> None:
    await start_mimic(running_service)
    maildir = platform_settings.home / "mail"
    _, context, page = await signed_in(platform, browser)
    await ask_flux(page, "hello")
    await expect(final_reply(page)).to_contain_text("I'm Flux")

    # From the thread's composer this time: the reply is drawn live as it streams.
    await page.get_by_label("Message Flux").fill("Email bob@example.com: lunch is at one")
    await page.get_by_label("Message Flux").press("Enter")
    card = page.locator(".chat-approval")
    await expect(card).to_have_attribute("data-status", "pending")
    await expect(card.locator(".summary")).to_contain_text("bob@example.com")
    await asyncio.sleep(0.5)
    assert [m for m in mail_in(maildir) if b"bob@example.com" in m] == []  # not before a yes

    await card.get_by_role("button", name="Approve").click()
    await expect(card).to_have_attribute("data-status", "approved")
    await expect(final_reply(page).last).to_contain_text("Sent for delivery")

    async def delivered() -> list[bytes]:
        return [m for m in mail_in(maildir) if b"bob@example.com" in m]

    [raw] = await wait_until(delivered)
    assert email.message_from_bytes(raw).get_payload(decode=True) == b"lunch is at one"
    # The approval stays answered after a reload; nothing is left to click.
    await page.reload()
    await expect(page.locator(".chat-approval")).to_have_attribute("data-status", "approved")
    await expect(page.locator(".chat-approval .approve")).to_be_hidden()
    await context.close()


async def test_without_javascript_the_forms_still_ask_and_approve(
    platform: Platform, browser: Browser
) -> None:
    person = await platform.sign_up("plain")
    context = await browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(platform.url + "/login")
    await sign_in(page, person.email)
    await page.get_by_label("Ask the agent").fill("Email bob@example.com: lunch is at one")
    await page.get_by_role("button", name="Send").click()
    await expect(page).to_have_url(re.compile(r"/c/[0-9a-f-]+$"))

    async def shown(selector: str) -> bool:
        await page.reload()  # no live stream without a script: the page is read again
        return await page.locator(selector).count() > 0

    await wait_until(lambda: shown('.chat-approval[data-status="pending"]'))
    await page.locator(".chat-approval").get_by_role("button", name="Approve").click()
    await expect(page).to_have_url(re.compile(r"/c/[0-9a-f-]+$"))
    await wait_until(lambda: shown('.chat-approval[data-status="approved"]'))
    await wait_until(lambda: shown('.message.chat_reply[data-status="complete"]'))
    await expect(final_reply(page)).to_contain_text("Sent for delivery")
    await context.close()
