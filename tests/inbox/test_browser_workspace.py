"""The workspace, memory and files pages end to end in a real headless Chromium (Debian's
package, driven by Playwright), against the real inbox, inkpass, tentacle and Den."""

from __future__ import annotations

import json
import os
import re
from urllib.parse import urlparse

import httpx
from playwright.async_api import Browser, expect

from contracts.ids import new_id
from den.app import build_app as build_den
from den.settings import DenSettings
from shared.testing.plugin import StartService
from tests.inbox.conftest import Platform
from tests.inbox.test_browser import TIMEOUT_MS, browser, sign_in, sign_up_and_in

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_browser

CONTACT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "company": {"type": "string"},
        "size": {"type": "integer"},
        "active": {"type": "boolean"},
        "stage": {"enum": ["lead", "customer"]},
    },
    "required": ["name"],
}


async def test_types_objects_filter_search_and_edit_by_keyboard(
    platform: Platform, browser: Browser
) -> None:
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await sign_up_and_in(page, platform, f"web-ws-{new_id()[-12:]}@example.com")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Workspace").click()
    await expect(page.get_by_role("heading", name="Workspace")).to_be_visible()
    await expect(page.locator("#no-types")).to_be_visible()

    # A schema that is not JSON is refused on the page; nothing is defined.
    await page.get_by_label("Type name").fill("contact")
    await page.get_by_label("JSON Schema").fill("{nope")
    await page.get_by_role("button", name="Save type").click()
    await expect(page.get_by_role("alert")).to_have_attribute("data-code", "inbox.invalid_request")
    await expect(page.locator("#no-types")).to_be_visible()

    await page.get_by_label("Type name").fill("contact")
    await page.get_by_label("JSON Schema").fill(json.dumps(CONTACT_SCHEMA))
    await page.get_by_role("button", name="Save type").click()
    await expect(page).to_have_url(re.compile(r"/workspace/t/contact$"))
    await expect(page.locator("#no-objects")).to_be_visible()

    # The form is built from the schema: text, number, checkbox, choice.
    for name, company, size in (("Ada", "Acme", "12"), ("Grace", "Globex", "40")):
        await page.get_by_role("link", name="New contact").click()
        await page.get_by_label("name (required)").fill(name)
        await page.get_by_label("company").fill(company)
        await page.get_by_label("size").fill(size)
        await page.get_by_label("active").check()
        await page.get_by_label("stage").select_option("lead")
        await page.get_by_label("Tags").fill("vip")
        await page.get_by_label("Tags").press("Enter")  # submits, as in any text field
        await expect(page.get_by_role("status")).to_have_text("Saved.")
        await page.get_by_role("link", name="contact").first.click()
    await expect(page.locator("#objects tbody tr")).to_have_count(2)

    # "/" focuses the filter box; Enter filters.
    await page.locator("body").press("/")
    await expect(page.locator("#where")).to_be_focused()
    await page.keyboard.type('{"size": {"$gte": 20}}')
    await page.keyboard.press("Enter")
    await expect(page.locator("#objects tbody tr")).to_have_count(1)
    await expect(page.locator("#objects tbody")).to_contain_text("Grace")
    await page.locator("#where").fill('{"size": {"$bogus": 1}}')
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_role("alert")).to_have_attribute(
        "data-code", "tentacle.filter_invalid"
    )
    await page.get_by_label("Search text").fill("Acme")
    await page.get_by_label("Search text").press("Enter")
    await expect(page.locator("#objects tbody tr")).to_have_count(1)
    await expect(page.locator("#objects .snippet")).to_contain_text("Acme")

    # Edit: a number that is not one is refused and nothing changes; then a real change.
    await page.locator("body").press("j")  # j focuses the first row's link, Enter opens it
    await expect(page.locator("#objects tbody a").first).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("name (required)")).to_have_value("Ada")
    await expect(page.get_by_label("active")).to_be_checked()
    await page.get_by_label("Other fields (JSON)").fill("[1]")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("alert")).to_have_attribute("data-code", "inbox.invalid_request")
    await page.get_by_label("Other fields (JSON)").fill('{"note": "met at the fair"}')
    await page.get_by_label("company").fill("Initech")
    await page.get_by_label("active").uncheck()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Saved.")
    await expect(page.locator(".meta")).to_contain_text("Version 2")
    await expect(page.get_by_label("company")).to_have_value("Initech")
    await expect(page.get_by_label("active")).not_to_be_checked()
    await expect(page.get_by_label("Other fields (JSON)")).to_contain_text("met at the fair")

    await page.get_by_role("button", name="Delete this contact").click()
    await expect(page).to_have_url(re.compile(r"/workspace/t/contact$"))
    await expect(page.locator("#objects tbody tr")).to_have_count(1)
    await expect(page.locator("#objects tbody")).to_contain_text("Grace")

    # Another organisation's object is simply not found.
    other = await platform.sign_up("other")
    theirs = await other.ok(
        "POST", "/api/v1/workspace/objects", 201, json={"type": "note", "data": {"t": "x"}}
    )
    await page.goto(f"{platform.url}/workspace/o/{theirs['id']}")
    await expect(page.get_by_role("alert")).to_have_attribute(
        "data-code", "tentacle.object_not_found"
    )
    await context.close()


async def test_memory_on_a_phone(platform: Platform, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await sign_up_and_in(page, platform, f"web-mem-{new_id()[-12:]}@example.com")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await page.goto(platform.url + "/memory")
    await expect(page.locator("#no-memories")).to_be_visible()
    for key, title, body in (
        ("customer/acme:billing", "Acme pays quarterly", "Invoices go out every quarter."),
        ("style", "Tone of voice", "Short sentences, no jargon."),
    ):
        await page.get_by_label("Key").fill(key)
        await page.get_by_label("Title").fill(title)
        await page.get_by_label("What to remember").fill(body)
        await page.get_by_role("button", name="Remember").click()
        await expect(page.get_by_role("status")).to_have_text("Remembered.")
    await expect(page.locator("#memories .memory")).to_have_count(2)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375

    await page.get_by_label("Search memory").fill("quarter invoices")
    await page.get_by_label("Search memory").press("Enter")
    await expect(page.locator("#memories .memory").first).to_have_attribute(
        "data-key", "customer/acme:billing"
    )
    await page.goto(platform.url + "/memory")
    await page.get_by_label("Key").fill("bad key!")
    await page.get_by_label("Title").fill("t")
    await page.get_by_label("What to remember").fill("b")
    await page.locator("form[method='post'][action='/memory']").evaluate("f => f.noValidate = true")
    await page.get_by_role("button", name="Remember").click()
    await expect(page.get_by_role("alert")).to_have_attribute("data-code", "inbox.invalid_request")
    await expect(page.locator("#memories .memory")).to_have_count(2)

    await page.locator("[data-key='style']").get_by_role("button", name="Forget").click()
    await expect(page.locator("#memories .memory")).to_have_count(1)
    await page.goto(platform.url + "/workspace")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375

    # A wide table of objects scrolls inside its box; the page itself stays phone-wide.
    wide = {f"field_{i}": "a fairly long value " * 4 for i in range(6)}
    made = await page.request.post(
        platform.url + "/api/v1/workspace/objects", data={"type": "wide", "data": wide}
    )
    assert made.status == 201, await made.text()
    await page.goto(platform.url + "/workspace/t/wide")
    await expect(page.locator("#objects tbody tr")).to_have_count(1)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.locator("#objects tbody a").click()
    await expect(page.get_by_label("Data (JSON)")).to_contain_text("field_5")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await context.close()


async def test_files_upload_download_and_signed_link(
    platform: Platform, browser: Browser, running_service: StartService
) -> None:
    await running_service(build_den, DenSettings)
    context = await browser.new_context(accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await sign_up_and_in(page, platform, f"web-files-{new_id()[-12:]}@example.com")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    await expect(page.locator("#no-files")).to_be_visible()

    data = os.urandom(200_000)
    await page.get_by_label("Choose a file to upload").set_input_files(
        {"name": "report.bin", "mimeType": "application/octet-stream", "buffer": data}
    )
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.get_by_role("status").first).to_have_text("Uploaded.")
    row = page.locator("#files tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("report.bin")

    async with page.expect_download() as downloading:
        await row.get_by_role("link", name="report.bin").click()
    download = await downloading.value
    path = await download.path()
    assert path is not None
    assert path.read_bytes() == data

    await row.get_by_label("Link for").select_option(label="a day")
    await row.get_by_role("button", name="Get link").click()
    url = await page.get_by_label("Signed link").input_value()
    assert url.startswith("http")
    async with httpx.AsyncClient(timeout=30) as anyone:  # the signed link needs no session
        fetched = await anyone.get(url)
    assert fetched.status_code == 200
    assert fetched.content == data
    await context.close()


async def test_invite_a_member_and_accept_in_the_browser(
    platform: Platform, browser: Browser
) -> None:
    bob = await platform.sign_up("bob")
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await sign_up_and_in(page, platform, f"web-owner-{new_id()[-12:]}@example.com")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await page.get_by_role("link", name="Settings").click()
    await page.get_by_role("link", name="Members and invitations").click()
    await expect(page.locator("#members tbody tr")).to_have_count(1)
    await page.get_by_label("Email address").fill(bob.email)
    await page.get_by_label("Role").select_option("developer")
    await page.get_by_role("button", name="Send invitation").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {bob.email}")

    mail = await platform.mailbox.wait_for(bob.email, "invitation")
    query = urlparse(str(mail.variables["accept_url"])).query
    bobs = await browser.new_context()
    bobs.set_default_timeout(TIMEOUT_MS)
    bob_page = await bobs.new_page()
    await bob_page.goto(f"{platform.url}/invitations/accept?{query}")
    await sign_in(bob_page, bob.email)
    await bob_page.get_by_role("button", name="Accept the invitation").click()
    await expect(bob_page).to_have_url(re.compile(r"/inbox$"))
    await page.reload()
    await expect(page.locator(f"#members tr[data-email='{bob.email}']")).to_contain_text(
        "developer"
    )
    # A member already: refused with inkpass's code, shown on the page.
    await page.get_by_label("Email address").fill(bob.email)
    await page.get_by_role("button", name="Send invitation").click()
    await expect(page.get_by_role("alert")).to_have_attribute("data-code", "inkpass.conflict")
    await bobs.close()
    await context.close()
