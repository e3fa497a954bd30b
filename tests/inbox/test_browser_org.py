"""The organisation's time zone in the settings page, in a real headless Chromium."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from contracts.ids import new_id
from tests.inbox.conftest import Platform
from tests.inbox.test_browser import browser, sign_up_and_in

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared


async def test_an_owner_sets_the_org_time_zone_and_a_bad_one_is_refused(
    platform: Platform, browser: Browser
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await sign_up_and_in(page, platform, f"zone-{new_id()[-10:]}@example.com")
        await page.goto(platform.url + "/settings")
        await expect(page.locator("#org-zone")).to_have_text("UTC")
        zone = page.get_by_label("Time zone")
        await zone.fill("Atlantis/Lost")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("alert")).to_contain_text("time zone")
        await expect(page.locator("#org-zone")).to_have_text("UTC")  # nothing changed

        await page.get_by_label("Time zone").fill("Europe/Paris")
        await page.get_by_label("Time zone").press("Enter")
        await expect(page.locator("#org-zone")).to_have_text("Europe/Paris")
        await page.reload()
        await expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    finally:
        await context.close()
