"""The web UI end to end in a real headless Chromium (Debian's package, driven by Playwright).

If Chromium is missing these tests fail; they never skip (`.ci/run` installs it).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from contracts.ids import new_id
from tests.inbox.conftest import PASSWORD, Platform, noop_plan

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALLED = CHROMIUM.exists()  # checked once, outside the event loop
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000  # generous: the machine running the suite may be busy
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM_INSTALLED:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        await launched.close()


async def sign_up_and_in(page: Page, platform: Platform, email: str) -> None:
    await page.goto(platform.url + "/signup")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Confirm your address")).to_be_visible()
    mail = await platform.mailbox.wait_for(email, "verify_email")
    await page.get_by_label("Code").fill(str(mail.variables["code"]))
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("status")).to_contain_text("confirmed")
    await sign_in(page, email)


async def sign_in(page: Page, email: str) -> None:
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_person_signs_up_chats_approves_and_sets_up_two_factor(
    platform: Platform, browser: Browser
) -> None:
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    email = f"web-ada-{new_id()[-12:]}@example.com"
    await sign_up_and_in(page, platform, email)
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await expect(page.get_by_text("Nothing here yet.")).to_be_visible()

    # The composer starts a conversation; the agent's messages arrive live.
    await page.get_by_label("Ask the agent").fill("summarise the week")
    await page.get_by_role("button", name="Send").click()
    await expect(page).to_have_url(re.compile(r"/c/[0-9a-f-]+$"))
    conversation_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator(".message.user .body")).to_have_text("summarise the week")
    # The agent answers live (whatever the offline planner made of the goal).
    await expect(page.locator(".message.agent").first).to_be_visible()

    # A task needing approval in the same conversation: its card arrives live, is approved
    # with a click, and the task then finishes in the thread.
    cookies = {c["name"]: c["value"] for c in await context.cookies()}
    api = platform.client(headers={"Authorization": f"Bearer {cookies['fluxos_access']}"})
    created = await api.post(
        "/api/v1/tasks",
        json={
            "goal": "needs a yes",
            "conversation_id": conversation_id,
            "plan": noop_plan("a", "b", checkpoint_on="b"),
        },
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["task_id"]
    card = page.locator(f'.checkpoint[data-task="{task_id}"]')
    await expect(card).to_have_attribute("data-status", "pending")
    await expect(card.get_by_text("Run b?")).to_be_visible()
    await card.get_by_role("button", name="Approve").click()
    await expect(card).to_have_attribute("data-status", "approved")
    finished = page.locator(f'.message.task_completed:has(a[href="/tasks/{task_id}"])')
    await expect(finished).to_have_count(1)
    await expect(page.locator("#progress")).to_contain_text("completed")

    # Task detail: the plan's steps with their outputs.
    await page.goto(f"{platform.url}/tasks/{task_id}")
    await expect(page.locator("#task-status")).to_have_text("completed")
    await expect(page.locator(".step")).to_have_count(2)
    await expect(page.locator('.step[data-step="b"] .output')).to_contain_text('"v": "b"')

    # The inbox list, by keyboard: j focuses the first conversation, Enter opens it.
    await page.goto(platform.url + "/inbox")
    await expect(page.locator(".conversation")).to_have_count(1)
    await page.keyboard.press("j")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(conversation_id))

    # Settings: an API key, shown once, and two-factor sign-in.
    await page.goto(platform.url + "/settings")
    await page.get_by_label("Name", exact=True).fill("laptop")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#new-key")).to_have_text(re.compile(r"^fxk_"))
    await expect(page.locator(".keys li")).to_have_count(1)
    await page.get_by_role("button", name="Set up").click()
    secret = await page.locator("#totp-secret").inner_text()
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on").click()
    await expect(page.locator("#totp-state")).to_have_text("on")
    backup = (await page.locator("#backup-codes li").first.inner_text()).strip()

    # Signing in again asks for the second factor.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto(platform.url + "/inbox")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await sign_in(page, email)
    await expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    await page.get_by_label(re.compile("authenticator")).fill(backup)
    await page.get_by_role("button", name="Continue").click()
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await context.close()


async def test_readable_on_a_phone_and_errors_are_shown(
    platform: Platform, browser: Browser
) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(platform.url + "/login")
    await sign_in(page, "nobody@example.com")
    await expect(page.get_by_role("alert")).to_have_attribute(
        "data-code", "inkpass.invalid_credentials"
    )
    await sign_up_and_in(page, platform, f"web-phone-{new_id()[-12:]}@example.com")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await page.get_by_label("Ask the agent").fill("a long goal " * 30)
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".message.user")).to_have_count(1)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    await page.goto(platform.url + "/c/not-a-conversation")
    await expect(page.get_by_role("alert")).to_have_attribute("data-code", "inbox.not_found")
    await context.close()
