"""Provider delivery reports: verified, de-duplicated, applied in order, announced."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from contracts.mimic.models import NotificationStatus
from shared.bus import Bus
from shared.service import ServiceApp
from tests.mimic import signing
from tests.mimic.conftest import StartMimic, notification_verbs, otp_email, send, wait_status
from tests.mimic.stubs import PostmarkStub, ResendStub
from tests.shared.net.server import LoopbackServer, serving

RESEND_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"resend-webhook-signing-key!").decode()


@pytest.fixture
async def providers() -> AsyncIterator[
    tuple[PostmarkStub, ResendStub, LoopbackServer, LoopbackServer]
]:
    pm, rs = PostmarkStub(), ResendStub()
    async with serving(pm.app) as pm_server, serving(rs.app) as rs_server:
        yield pm, rs, pm_server, rs_server


async def _mimic(
    start: StartMimic,
    providers: tuple[PostmarkStub, ResendStub, LoopbackServer, LoopbackServer],
    which: str,
) -> ServiceApp:
    _, _, pm_server, rs_server = providers
    options: dict[str, Any] = {
        "email_providers": [which],
        "postmark_server_token": SecretStr(PostmarkStub.token),
        "postmark_base_url": pm_server.url,
        "postmark_webhook_username": "hooks",
        "postmark_webhook_password": SecretStr("hook-pass"),
        "resend_api_key": SecretStr(ResendStub.key),
        "resend_base_url": rs_server.url,
        "resend_webhook_secret": SecretStr(RESEND_WEBHOOK_SECRET),
    }
    return await start(**options)


async def test_resend_reports_are_svix_verified_and_applied_once(
    start_mimic: StartMimic,
    probe: Bus,
    providers: tuple[PostmarkStub, ResendStub, LoopbackServer, LoopbackServer],
) -> None:
    app = await _mimic(start_mimic, providers, "resend")
    nid = await send(probe, otp_email("rs-status"))
    sent = await wait_status(probe, nid, NotificationStatus.SENT)
    body = json.dumps(
        {
            "type": "email.delivered",
            "created_at": "2026-01-01T10:00:00.000Z",
            "data": {"email_id": sent.provider_message_id, "to": ["ada@example.com"]},
        }
    ).encode()
    async with httpx.AsyncClient(base_url=app.http_url or "") as http:
        forged = await http.post(
            "/providers/resend/events",
            content=body,
            headers=signing.svix("whsec_" + base64.b64encode(b"wrong").decode(), body, msg_id="m1"),
        )
        assert forged.status_code == 401
        assert forged.json()["error"]["code"] == "mimic.webhook_bad_signature"
        headers = signing.svix(RESEND_WEBHOOK_SECRET, body, msg_id="msg_2Zx")
        ok = await http.post("/providers/resend/events", content=body, headers=headers)
        assert ok.json() == {"ok": True, "applied": True}
        again = await http.post("/providers/resend/events", content=body, headers=headers)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "mimic.webhook_replayed"
    delivered = await wait_status(probe, nid, NotificationStatus.DELIVERED)
    assert delivered.delivered_at is not None
    assert delivered.delivered_at.year == 2026
    assert await notification_verbs(probe, 4) == ["queued", "send_started", "sent", "delivered"]


async def test_a_report_that_overtakes_the_send_is_taken_on_the_providers_retry(
    start_mimic: StartMimic,
    probe: Bus,
    providers: tuple[PostmarkStub, ResendStub, LoopbackServer, LoopbackServer],
) -> None:
    app = await _mimic(start_mimic, providers, "resend")
    rs = providers[1]
    rs.next_ids.append("4ef9a417-02e9-4d39-ad75-9611e0fcc33c")
    now = datetime.now(UTC)

    def report(email_id: str, at: datetime) -> bytes:
        created = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        data = {"email_id": email_id, "to": ["ada@example.com"]}
        return json.dumps({"type": "email.delivered", "created_at": created, "data": data}).encode()

    early = report("4ef9a417-02e9-4d39-ad75-9611e0fcc33c", now)
    headers = signing.svix(RESEND_WEBHOOK_SECRET, early, msg_id="msg_early")
    stranger = report("00000000-0000-4000-8000-000000000000", now - timedelta(hours=1))
    async with httpx.AsyncClient(base_url=app.http_url or "") as http:
        # Before the send is recorded: sent back for a retry, nothing claimed.
        first = await http.post("/providers/resend/events", content=early, headers=headers)
        assert first.status_code == 503
        assert first.json()["error"]["code"] == "mimic.report_unmatched"
        assert first.headers["retry-after"] == "5"
        # An old report of a message mimic never sent is acknowledged and dropped.
        other = await http.post(
            "/providers/resend/events",
            content=stranger,
            headers=signing.svix(RESEND_WEBHOOK_SECRET, stranger, msg_id="msg_other"),
        )
        assert other.json() == {"ok": True, "applied": False}

        nid = await send(probe, otp_email("rs-early"))
        await wait_status(probe, nid, NotificationStatus.SENT)
        retry = await http.post("/providers/resend/events", content=early, headers=headers)
        assert retry.json() == {"ok": True, "applied": True}
    await wait_status(probe, nid, NotificationStatus.DELIVERED)
    assert await notification_verbs(probe, 4) == ["queued", "send_started", "sent", "delivered"]


async def test_postmark_reports_need_the_credentials_and_a_late_delivery_never_hides_a_bounce(
    start_mimic: StartMimic,
    probe: Bus,
    providers: tuple[PostmarkStub, ResendStub, LoopbackServer, LoopbackServer],
) -> None:
    app = await _mimic(start_mimic, providers, "postmark")
    nid = await send(probe, otp_email("pm-status"))
    sent = await wait_status(probe, nid, NotificationStatus.SENT)
    bounce = json.dumps(
        {
            "RecordType": "Bounce",
            "ID": 4323372036854775807,
            "Type": "HardBounce",
            "TypeCode": 1,
            "MessageID": sent.provider_message_id,
            "Description": "The server was unable to deliver your message (ex: unknown user).",
            "Email": "ada@example.com",
            "BouncedAt": "2026-01-01T10:00:00Z",
        }
    ).encode()
    delivery = json.dumps(
        {
            "RecordType": "Delivery",
            "MessageID": sent.provider_message_id,
            "DeliveredAt": "2026-01-01T09:59:00Z",
            "Details": "Test delivery webhook details",
        }
    ).encode()
    auth = {"Authorization": "Basic " + base64.b64encode(b"hooks:hook-pass").decode()}
    async with httpx.AsyncClient(base_url=app.http_url or "") as http:
        denied = await http.post("/providers/postmark/events", content=bounce)
        assert denied.json()["error"]["code"] == "mimic.webhook_unsigned"
        wrong = {"Authorization": "Basic " + base64.b64encode(b"hooks:nope").decode()}
        denied = await http.post("/providers/postmark/events", content=bounce, headers=wrong)
        assert denied.json()["error"]["code"] == "mimic.webhook_bad_signature"
        applied = await http.post("/providers/postmark/events", content=bounce, headers=auth)
        assert applied.json() == {"ok": True, "applied": True}
        late = await http.post("/providers/postmark/events", content=delivery, headers=auth)
        assert late.json() == {"ok": True, "applied": False}
    bounced = await wait_status(probe, nid, NotificationStatus.BOUNCED)
    assert bounced.error is not None
    assert bounced.error.code == "mimic.bounced"
    assert "unknown user" in bounced.error.message
