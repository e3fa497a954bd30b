"""Stopping Flux mid-reply from the web UI. Flux talks to a slow model here (a local
OpenAI-compatible stub streaming one word at a time), so the reply is visibly typed token by
token and the Stop button has something to stop."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from shared.testing.llm_stub import OpenAIStub, Scripted
from tests.inbox.conftest import Platform
from tests.inbox.test_browser import TIMEOUT_MS, browser, sign_in
from tests.tentacle.test_chat_llm import llm

__all__ = ["browser"]  # the module-scoped Chromium of test_browser.py, shared


@pytest.fixture
def tentacle_overrides(llm_stub: OpenAIStub) -> dict[str, Any]:
    return {"llm": llm(llm_stub)}


async def test_stop_cancels_a_reply_mid_stream_and_the_conversation_carries_on(
    platform: Platform, browser: Browser, llm_stub: OpenAIStub
) -> None:
    words = " ".join(f"word{i}" for i in range(400))
    llm_stub.enqueue(
        Scripted(text="Hi there."),
        Scripted(text=words, word_delay=0.1),
        Scripted(text="Sure, short then."),
    )
    person = await platform.sign_up("stop")
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(platform.url + "/login")
    await sign_in(page, person.email)
    await page.get_by_label("Ask the agent").fill("hi")
    await page.get_by_label("Ask the agent").press("Enter")
    await expect(page).to_have_url(re.compile(r"/c/[0-9a-f-]+$"))
    await expect(page.locator('.message.chat_reply[data-status="complete"]')).to_have_text(
        re.compile("Hi there.")
    )

    composer = page.get_by_label("Message Flux")
    await composer.fill("Tell me a long story")
    await composer.press("Shift+Enter")  # a new line, not a send
    await expect(page.locator(".message.user")).to_have_count(1)
    await composer.press("Enter")
    await expect(page.locator(".message.user")).to_have_count(2)
    assert await composer.input_value() == ""

    # The reply is drawn word by word while it streams.
    typing = page.locator(".message.chat_reply.streaming .body")
    await expect(typing).to_contain_text("word3")
    assert "word399" not in await typing.inner_text()
    stop = page.get_by_role("button", name="Stop")
    await expect(stop).to_be_visible()
    # A reload mid-reply: the page knows a reply is running, and carries on drawing it.
    await page.reload()
    await expect(stop).to_be_visible()
    await expect(typing).to_have_count(1)
    await stop.click()

    stopped = page.locator('.message.chat_reply[data-status="cancelled"] .body')
    await expect(stopped).to_have_count(1)
    await expect(stop).to_be_hidden()
    kept = await stopped.inner_text()
    assert kept.startswith("word0 word1 word2 word3")
    assert "word399" not in kept
    await expect(page.locator(".message.chat_reply.streaming")).to_have_count(0)

    # The conversation carries on, and a reload shows the same thread.
    await composer.fill("Make it short")
    await composer.press("Enter")
    await expect(page.locator('.message.chat_reply[data-status="complete"]')).to_have_count(2)
    await expect(
        page.locator('.message.chat_reply[data-status="complete"] .body').last
    ).to_have_text("Sure, short then.")
    await page.reload()
    await expect(page.locator(".message.chat_reply")).to_have_count(3)
    assert (
        await page.locator('.message.chat_reply[data-status="cancelled"] .body').inner_text()
        == kept
    )
    await context.close()
