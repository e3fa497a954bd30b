"""The dev mailbox: what the local sink received, readable at /dev/mail and with `fluxos mail`."""

from __future__ import annotations

import json

import httpx
from typer.testing import CliRunner

from contracts.mimic.models import ContentV1, NotificationStatus, RecipientV1, SendNotificationV1
from shared.bus import Bus
from shared.cli.main import app as cli
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from tests.mimic.conftest import otp_email, send, wait_status


async def test_mail_is_readable_in_the_browser_and_from_the_cli(
    mimic: ServiceApp, probe: Bus, platform_settings: PlatformSettings
) -> None:
    first = await send(probe, otp_email("box-1", code="135790"))
    await wait_status(probe, first, NotificationStatus.DELIVERED)
    hostile = SendNotificationV1(
        idempotency_key="box-2",
        to=RecipientV1(address="bob@example.com"),
        content=ContentV1(
            subject="<script>alert(1)</script>",
            text="plain part",
            html='<p onclick="x()">hi</p><script>alert(2)</script><img src="https://t.example/p">',
        ),
    )
    await wait_status(probe, await send(probe, hostile), NotificationStatus.DELIVERED)

    async with httpx.AsyncClient(base_url=mimic.http_url or "") as http:
        page = await http.get("/dev/mail")
        assert page.status_code == 200
        assert "Your verification code: 135790" in page.text
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        key = page.text.split("href='/dev/mail/")[1].split("'")[0]
        one = await http.get(f"/dev/mail/{key}")
        assert one.status_code == 200
        assert "<iframe sandbox srcdoc=" in one.text
        assert "<script>alert(2)" not in one.text  # escaped into the sandboxed frame
        assert (await http.get("/dev/mail/../../etc/passwd")).status_code == 404
        assert (await http.get("/dev/mail/nope")).status_code == 404

    # Sign-in codes and reset links are in there: nobody but this machine may read them.
    app = mimic.http_app
    assert app is not None
    remote = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://mimic") as outsider:
        for path in ("/dev/mail", f"/dev/mail/{key}", f"/dev/mail/{key}/raw"):
            refused = await outsider.get(path)
            assert refused.status_code == 404, path
            assert "135790" not in refused.text
    async with httpx.AsyncClient(transport=local, base_url="http://mimic") as proxied:
        relayed = await proxied.get("/dev/mail", headers={"X-Forwarded-For": "198.51.100.7"})
        assert relayed.status_code == 404, "a local proxy relays the outside world"
        assert (await proxied.get("/dev/mail")).status_code == 200

    runner = CliRunner()
    home = str(platform_settings.home)
    listed = runner.invoke(cli, ["mail", "--home", home, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [r["index"] for r in rows] == [1, 2]
    assert {r["subject"] for r in rows} == {
        "Your verification code: 135790",
        "<script>alert(1)</script>",
    }
    only_ada = runner.invoke(cli, ["mail", "--home", home, "--json", "--to", "ada@"])
    assert len(only_ada.output.splitlines()) == 1
    index = next(r["index"] for r in rows if r["to"] == "ada@example.com")
    shown = runner.invoke(cli, ["mail", "show", str(index), "--home", home])
    assert shown.exit_code == 0, shown.output
    assert "Subject: Your verification code: 135790" in shown.output
    assert "135790" in shown.output.split("\n\n", 1)[1]
    missing = runner.invoke(cli, ["mail", "show", "99", "--home", home])
    assert missing.exit_code == 1
