"""Signing in with Google from the web UI, in a real headless Chromium, against a stand-in
OpenID provider over real HTTP (tests/inkpass/oidc_stub.py) on another site than the inbox, so
the SameSite=Strict session cookies must survive the cross-site return."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from contracts.ids import new_id
from shared.runtime.process import free_port
from tests.inbox.conftest import Platform
from tests.inbox.test_browser import browser
from tests.inkpass.oidc_stub import CLIENT_ID, CLIENT_SECRET, OidcStub, Person, serve_stub

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared


@pytest.fixture
async def stub() -> AsyncIterator[OidcStub]:
    async with serve_stub() as provider:
        yield provider


@pytest.fixture
def inbox_port() -> int:
    return free_port()


@pytest.fixture
def inkpass_overrides(stub: OidcStub, inbox_port: int) -> dict[str, Any]:
    return {
        "google_client_id": CLIENT_ID,
        "google_client_secret": CLIENT_SECRET,
        "google_discovery_url": f"{stub.base_url}/.well-known/openid-configuration",
        # The inbox is reached as localhost, the provider as 127.0.0.1: two different sites.
        "oauth_redirect_uris": [f"http://localhost:{inbox_port}/login/google/callback"],
    }


async def test_a_new_person_signs_in_with_google_and_lands_in_their_inbox(
    platform: Platform, browser: Browser, stub: OidcStub, inbox_port: int
) -> None:
    await platform.start_inbox(http_port=inbox_port, google_login=True)
    stub.person = Person(f"google-{new_id()[-8:]}", f"gina-{new_id()[-8:]}@example.com")
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(f"http://localhost:{inbox_port}/login")
        await page.get_by_role("link", name="Sign in with Google").click()
        await expect(page).to_have_url(f"http://localhost:{inbox_port}/inbox")
        await expect(page.get_by_role("link", name="Settings")).to_be_visible()
        await page.goto(f"http://localhost:{inbox_port}/settings")
        await expect(page.locator("#org-zone")).to_have_text("UTC")  # their own new org
    finally:
        await context.close()


async def test_a_refused_or_forged_return_opens_no_session(
    platform: Platform, browser: Browser, inbox_port: int
) -> None:
    await platform.start_inbox(http_port=inbox_port, google_login=True)
    context = await browser.new_context()
    page = await context.new_page()
    base = f"http://localhost:{inbox_port}"
    try:
        await page.goto(f"{base}/login/google/callback?error=access_denied")
        await expect(page.get_by_role("alert")).to_contain_text("did not complete")
        await page.goto(f"{base}/login/google/callback?state=forged&code=whatever")
        await expect(page.get_by_role("alert")).to_be_visible()
        assert await context.cookies() == []
        await page.goto(f"{base}/inbox")
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        await context.close()
