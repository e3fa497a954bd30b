"""Inbound webhooks on the real platform: verified, mapped to the standard event, published;
every bad one refused with its code, with nothing published."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.mimic.models import (
    CreateIntegrationV1,
    DisableIntegrationV1,
    DiscordSettingsV1,
    GetIntegrationV1,
    GitHubSettingsV1,
    IntegrationV1,
    ListIntegrationsV1,
    SlackSettingsV1,
    StripeSettingsV1,
    WebhookSettingsV1,
)
from contracts.mimic.subjects import (
    INTEGRATION_CREATE,
    INTEGRATION_DISABLE,
    INTEGRATION_GET,
    INTEGRATION_LIST,
)
from shared.bus import Bus, RemoteError
from shared.db.urls import derive_service_database
from shared.service import ServiceApp
from shared.settings import PlatformSettings
from tests.mimic import signing
from tests.mimic.conftest import (
    ORG,
    OTHER_ORG,
    Published,
    StartMimic,
    eventually,
    webhook_events,
)

STRIPE_SECRET = "whsec_test_stripe_secret"
GITHUB_SECRET = "github-hook-secret"
SLACK_SECRET = "slack-signing-secret-123"


@pytest.fixture
async def http(mimic: ServiceApp) -> AsyncIterator[httpx.AsyncClient]:
    assert mimic.http_url is not None
    async with httpx.AsyncClient(base_url=mimic.http_url, timeout=10) as client:
        yield client


async def _create(bus: Bus, settings: object, *, org: str = ORG) -> IntegrationV1:
    request = CreateIntegrationV1.model_validate({"name": "test", "settings": settings})
    return await bus.request(INTEGRATION_CREATE, request, org_id=org)


async def _events(bus: Bus, count: int) -> list[Published]:
    async def arrived() -> bool:
        return len(await webhook_events(bus)) >= count

    await eventually(arrived)
    return await webhook_events(bus)


def _code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_stripe_events_are_verified_and_published_with_their_tokens(
    mimic: ServiceApp, probe: Bus, http: httpx.AsyncClient
) -> None:
    hook = await _create(probe, StripeSettingsV1(webhook_secret=STRIPE_SECRET))
    body = json.dumps(
        {
            "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
            "object": "event",
            "type": "invoice.paid",
            "created": 1686089970,
            "data": {"object": {"id": "in_1", "amount_paid": 4200}},
        }
    ).encode()
    response = await http.post(
        hook.ingress_path, content=body, headers=signing.stripe(STRIPE_SECRET, body)
    )
    assert response.status_code == 200, response.text
    [event] = await _events(probe, 1)
    assert event.subject == (
        f"mimic.v1.evt.webhook.{ORG}.stripe.{hook.integration_id}.invoice_paid.received"
    )
    assert event.data["delivery_id"] == "evt_1NG8Du2eZvKYlo2CUI79vXWy"
    assert event.data["payload"]["data"]["object"]["amount_paid"] == 4200
    assert event.data["occurred_at"].startswith("2023-06-06")
    assert event.meta["actor"] == {"kind": "integration", "id": hook.integration_id}
    assert response.json() == {"ok": True, "event_id": event.data["event_id"]}


async def test_github_events_map_actor_repository_and_title(
    mimic: ServiceApp, probe: Bus, http: httpx.AsyncClient
) -> None:
    hook = await _create(probe, GitHubSettingsV1(webhook_secret=GITHUB_SECRET))
    ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    headers = signing.github(GITHUB_SECRET, ping, event="ping", delivery="d-ping")
    assert (await http.post(hook.ingress_path, content=ping, headers=headers)).status_code == 200
    body = json.dumps(
        {
            "action": "opened",
            "issue": {"number": 7, "title": "Crash on start"},
            "repository": {"full_name": "octo/app"},
            "sender": {"login": "octocat", "id": 583231},
        }
    ).encode()
    headers = signing.github(GITHUB_SECRET, body, event="issues", delivery="72d3162e-cc78")
    assert (await http.post(hook.ingress_path, content=body, headers=headers)).status_code == 200
    [event] = await _events(probe, 1)  # the ping was answered, not published
    assert event.subject.endswith(".github." + hook.integration_id + ".issues_opened.received")
    assert event.data["actor"] == {"id": "583231", "name": "octocat"}
    assert event.data["channel_id"] == "octo/app"
    assert event.data["text"] == "Crash on start"


async def test_slack_url_verification_events_and_slash_commands(
    mimic: ServiceApp, probe: Bus, http: httpx.AsyncClient
) -> None:
    hook = await _create(probe, SlackSettingsV1(signing_secret=SLACK_SECRET))
    challenge = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aB"}).encode()
    response = await http.post(
        hook.ingress_path,
        content=challenge,
        headers={**signing.slack(SLACK_SECRET, challenge), "Content-Type": "application/json"},
    )
    assert response.json() == {"challenge": "3eZbrw1aB"}

    message = json.dumps(
        {
            "type": "event_callback",
            "event_id": "Ev08MFMKH6",
            "event_time": 1700000000,
            "event": {"type": "message", "user": "U123", "channel": "C42", "text": "hello bot"},
        }
    ).encode()
    headers = {**signing.slack(SLACK_SECRET, message), "Content-Type": "application/json"}
    assert (await http.post(hook.ingress_path, content=message, headers=headers)).status_code == 200

    form = urlencode(
        {
            "command": "/deploy",
            "text": "staging now",
            "user_id": "U123",
            "user_name": "ada",
            "channel_id": "C42",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "response_url": "https://hooks.slack.com/commands/1234/5678",
        }
    ).encode()
    headers = {
        **signing.slack(SLACK_SECRET, form),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    response = await http.post(hook.ingress_path, content=form, headers=headers)
    assert response.status_code == 200
    first, second = await _events(probe, 2)
    assert first.data["event_type"] == "message"
    assert first.data["text"] == "hello bot"
    assert second.data["event_type"] == "slash_command"
    assert second.data["command"] == "deploy"
    assert second.data["text"] == "staging now"
    assert second.data["reply"] == {
        "kind": "slack_response_url",
        "application_id": None,
        "token": None,
        "url": "https://hooks.slack.com/commands/1234/5678",
    }


async def test_discord_ping_and_commands_with_ed25519(
    mimic: ServiceApp, probe: Bus, http: httpx.AsyncClient
) -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw().hex()
    hook = await _create(probe, DiscordSettingsV1(application_id="123456789", public_key=public))
    ping = json.dumps({"id": "1", "type": 1, "application_id": "123456789"}).encode()
    response = await http.post(hook.ingress_path, content=ping, headers=signing.discord(key, ping))
    assert response.json() == {"type": 1}
    # Discord checks that endpoints refuse bad signatures, PING included.
    forged = signing.discord(Ed25519PrivateKey.generate(), ping)
    response = await http.post(hook.ingress_path, content=ping, headers=forged)
    assert response.status_code == 401

    command = json.dumps(
        {
            "id": "1180000000000000001",
            "type": 2,
            "application_id": "123456789",
            "token": "interaction-token",
            "channel_id": "998877",
            "member": {"user": {"id": "42", "username": "ada"}},
            "data": {"name": "ping", "options": [{"name": "target", "type": 3, "value": "all"}]},
        }
    ).encode()
    response = await http.post(
        hook.ingress_path, content=command, headers=signing.discord(key, command)
    )
    assert response.json() == {"type": 5}
    [event] = await _events(probe, 1)
    assert event.data["event_type"] == "application_command"
    assert event.data["command"] == "ping"
    assert event.data["options"] == {"target": "all"}
    assert event.data["actor"] == {"id": "42", "name": "ada"}
    assert event.data["reply"]["kind"] == "discord_interaction"
    assert event.data["reply"]["token"] == "interaction-token"


async def test_custom_webhooks_get_a_generated_secret_returned_once(
    mimic: ServiceApp, probe: Bus, http: httpx.AsyncClient
) -> None:
    hook = await _create(probe, WebhookSettingsV1())
    assert hook.generated_secret is not None
    assert hook.secrets_set == ["signing_secret"]
    again = await probe.request(
        INTEGRATION_GET, GetIntegrationV1(integration_id=hook.integration_id), org_id=ORG
    )
    assert again.generated_secret is None
    body = json.dumps({"text": "build #12 passed"}).encode()
    headers = signing.custom(hook.generated_secret, body, event="Build.Passed", delivery="b-12")
    assert (await http.post(hook.ingress_path, content=body, headers=headers)).status_code == 200
    [event] = await _events(probe, 1)
    assert event.data["event_type"] == "build_passed"
    assert event.data["text"] == "build #12 passed"
    assert hook.ingress_url is None, "mimic does not know its public address"


async def test_the_whole_ingress_url_is_given_behind_a_public_address(
    start_mimic: StartMimic, probe: Bus
) -> None:
    await start_mimic(public_url="https://hooks.example.com/mimic/")
    hook = await _create(probe, StripeSettingsV1(webhook_secret=STRIPE_SECRET))
    assert hook.ingress_url == "https://hooks.example.com/mimic" + hook.ingress_path
    listed = await probe.request(INTEGRATION_LIST, ListIntegrationsV1(), org_id=ORG)
    assert [i.ingress_url for i in listed.integrations] == [hook.ingress_url]


# ---------------------------------------------------------------------------- bad input
async def test_bad_webhooks_are_refused_with_a_code_and_publish_nothing(
    mimic: ServiceApp, probe: Bus, http: httpx.AsyncClient
) -> None:
    hook = await _create(probe, StripeSettingsV1(webhook_secret=STRIPE_SECRET))
    other = await _create(probe, StripeSettingsV1(webhook_secret="whsec_other_secret"))
    body = json.dumps({"id": "evt_bad", "type": "charge.succeeded", "created": 1}).encode()
    path = hook.ingress_path
    now = int(time.time())

    cases: list[tuple[str, dict[str, str], bytes, int, str]] = [
        ("unsigned", {}, body, 401, "mimic.webhook_unsigned"),
        (
            "mis-signed",
            signing.stripe("whsec_wrong", body),
            body,
            401,
            "mimic.webhook_bad_signature",
        ),
        (
            "tampered",
            signing.stripe(STRIPE_SECRET, body),
            body.replace(b"charge", b"refund"),
            401,
            "mimic.webhook_bad_signature",
        ),
        (
            "signed for another integration",
            signing.stripe("whsec_other_secret", body),
            body,
            401,
            "mimic.webhook_bad_signature",
        ),
        (
            "stale",
            signing.stripe(STRIPE_SECRET, body, at=now - 3600),
            body,
            400,
            "mimic.webhook_stale",
        ),
        (
            "from the future",
            signing.stripe(STRIPE_SECRET, body, at=now + 3600),
            body,
            400,
            "mimic.webhook_stale",
        ),
        (
            "not json",
            signing.stripe(STRIPE_SECRET, b"{nope"),
            b"{nope",
            400,
            "mimic.webhook_malformed",
        ),
    ]
    for name, headers, content, status, code in cases:
        response = await http.post(path, content=content, headers=headers)
        assert (response.status_code, _code(response)) == (status, code), name

    big = b'{"id": "evt_big", "type": "x", "pad": "' + b"a" * (600 * 1024) + b'"}'
    response = await http.post(path, content=big, headers=signing.stripe(STRIPE_SECRET, big))
    assert (response.status_code, _code(response)) == (413, "mimic.payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(40):
            yield b"a" * 16_384

    response = await http.post(path, content=chunks(), headers=signing.stripe(STRIPE_SECRET, b""))
    assert (response.status_code, _code(response)) == (413, "mimic.payload_too_large")

    for unknown in (
        f"/hooks/{ORG}/nope",
        f"/hooks/{OTHER_ORG}/{path.rsplit('/', 1)[1]}",
        f"/hooks/..%2F{ORG}/{path.rsplit('/', 1)[1]}",
    ):
        response = await http.post(
            unknown, content=body, headers=signing.stripe(STRIPE_SECRET, body)
        )
        assert response.status_code == 404, unknown

    good = signing.stripe(STRIPE_SECRET, body)
    assert (await http.post(path, content=body, headers=good)).status_code == 200
    replay = await http.post(path, content=body, headers=good)
    assert (replay.status_code, _code(replay)) == (409, "mimic.webhook_replayed")
    # A replay re-signed with a fresh timestamp is the same delivery all the same.
    resigned = await http.post(path, content=body, headers=signing.stripe(STRIPE_SECRET, body))
    assert (resigned.status_code, _code(resigned)) == (409, "mimic.webhook_replayed")

    assert len(await webhook_events(probe)) == 1
    assert other.integration_id != hook.integration_id


async def test_a_disabled_integration_stops_answering(
    mimic: ServiceApp, probe: Bus, http: httpx.AsyncClient
) -> None:
    hook = await _create(probe, StripeSettingsV1(webhook_secret=STRIPE_SECRET))
    disabled = await probe.request(
        INTEGRATION_DISABLE, DisableIntegrationV1(integration_id=hook.integration_id), org_id=ORG
    )
    assert disabled.status == "disabled"
    body = json.dumps({"id": "evt_2", "type": "invoice.paid"}).encode()
    response = await http.post(
        hook.ingress_path, content=body, headers=signing.stripe(STRIPE_SECRET, body)
    )
    assert (response.status_code, _code(response)) == (404, "mimic.webhook_unknown")
    assert await webhook_events(probe) == []


async def test_another_org_cannot_see_an_integration_and_secrets_are_sealed(
    mimic: ServiceApp, probe: Bus, platform_settings: PlatformSettings
) -> None:
    hook = await _create(probe, GitHubSettingsV1(webhook_secret=GITHUB_SECRET, token="ghp_s3cr3t"))
    with pytest.raises(RemoteError) as caught:
        await probe.request(
            INTEGRATION_GET, GetIntegrationV1(integration_id=hook.integration_id), org_id=OTHER_ORG
        )
    assert caught.value.code == "mimic.not_found"
    assert hook.settings == {}
    assert hook.secrets_set == ["token", "webhook_secret"]
    target = derive_service_database(platform_settings, "mimic")
    conn = await asyncpg.connect(target.url.replace("+asyncpg", ""))
    try:
        # The service's own role, outside any org scope, sees no tenant rows at all.
        assert await conn.fetchval("select count(*) from integrations") == 0
        await conn.execute("select set_config('fluxos.org_id', $1, false)", ORG)
        sealed = await conn.fetchval("select secrets from integrations")
    finally:
        await conn.close()
    assert b"ghp_s3cr3t" not in sealed
    assert GITHUB_SECRET.encode() not in sealed


async def test_identical_posts_racing_publish_one_event(
    mimic: ServiceApp, probe: Bus, http: httpx.AsyncClient
) -> None:
    hook = await _create(probe, GitHubSettingsV1(webhook_secret=GITHUB_SECRET))
    body = json.dumps({"ref": "refs/heads/main", "repository": {"full_name": "o/r"}}).encode()
    headers = signing.github(GITHUB_SECRET, body, event="push", delivery="race-1")
    answers = await asyncio.gather(
        *(http.post(hook.ingress_path, content=body, headers=headers) for _ in range(8))
    )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    assert {_code(a) for a in answers if a.status_code == 409} == {"mimic.webhook_replayed"}
    [event] = await _events(probe, 1)
    assert event.data["event_type"] == "push"
