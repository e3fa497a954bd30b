"""Connecting outside services through the inbox (API and settings page), fronting mimic: a
signed webhook posted to the answered ingress reaches the bus; bad settings change nothing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import httpx
from playwright.async_api import Browser, expect

from contracts.ids import new_id
from shared.service import ServiceApp
from shared.testing.plugin import StartService
from tests.inbox.conftest import Platform
from tests.inbox.test_browser import browser, sign_up_and_in
from tests.tentacle.chat_world import start_mimic

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared

SECRET = "whsec_inbox_test_secret"


def stripe_post(body: bytes) -> dict[str, str]:
    t = int(time.time())
    signature = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}


async def test_connect_read_use_and_disable_an_integration(
    platform: Platform, running_service: StartService
) -> None:
    mimic: ServiceApp = await start_mimic(running_service)
    ada = await platform.sign_up("ada")
    body = {"name": "payments", "settings": {"provider": "stripe", "webhook_secret": SECRET}}
    created = await ada.ok("POST", "/api/v1/integrations", 201, json=body)
    assert created["provider"] == "stripe"
    assert SECRET not in json.dumps(created)  # secrets never come back
    same = await ada.ok("GET", f"/api/v1/integrations/{created['integration_id']}")
    assert same["ingress_path"] == created["ingress_path"]
    listed = await ada.ok("GET", "/api/v1/integrations")
    assert [i["integration_id"] for i in listed["integrations"]] == [created["integration_id"]]

    event = json.dumps({"id": f"evt_{new_id()[-10:]}", "type": "invoice.paid", "data": {}})
    async with httpx.AsyncClient(base_url=mimic.http_url or "") as outside:
        answer = await outside.post(
            created["ingress_path"], content=event.encode(), headers=stripe_post(event.encode())
        )
        assert answer.status_code == 200, answer.text

        disabled = await ada.ok("POST", f"/api/v1/integrations/{created['integration_id']}/disable")
        assert disabled["status"] == "disabled"
        # Mimic caches integrations for a few seconds: the ingress stops answering within that.
        for _ in range(300):
            later = json.dumps({"id": f"evt_{new_id()[-10:]}", "type": "invoice.paid", "data": {}})
            again = await outside.post(
                created["ingress_path"], content=later.encode(), headers=stripe_post(later.encode())
            )
            if again.status_code != 200:
                break
            await asyncio.sleep(0.1)
        assert again.status_code in (403, 404, 410), again.text

    # Bad settings and another org's ids: refused, nothing created.
    bad = await ada.http.post(
        "/api/v1/integrations", json={"name": "x", "settings": {"provider": "stripe"}}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "inbox.invalid_request"
    eve = await platform.sign_up("eve")
    stranger = await eve.http.get(f"/api/v1/integrations/{created['integration_id']}")
    assert stranger.status_code == 404
    assert len((await ada.ok("GET", "/api/v1/integrations"))["integrations"]) == 0  # disabled


async def test_connect_github_from_the_settings_page(
    platform: Platform, running_service: StartService, browser: Browser
) -> None:
    await start_mimic(running_service)
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await sign_up_and_in(page, platform, f"hooks-{new_id()[-10:]}@example.com")
        await page.goto(platform.url + "/settings")
        await page.get_by_text("Connect GitHub").first.click()
        await page.get_by_label("GitHub integration name").fill("issues")
        await page.get_by_label("Webhook secret").first.fill("short")
        await page.get_by_role("button", name="Connect GitHub").click()
        await expect(page.get_by_role("alert")).to_contain_text("webhook_secret")

        await page.get_by_text("Connect GitHub").first.click()
        await page.get_by_label("GitHub integration name").fill("issues")
        await page.get_by_label("Webhook secret").first.fill("a-long-enough-github-secret")
        await page.get_by_role("button", name="Connect GitHub").click()
        await expect(page.get_by_role("status")).to_contain_text("Connected issues")
        await expect(page.locator("#ingress")).to_contain_text("/")
        await expect(page.locator("ul.integrations")).to_contain_text("issues (github)")
    finally:
        await context.close()
