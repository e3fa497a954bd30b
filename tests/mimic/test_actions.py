"""Outbound actions on the real platform against real HTTP stand-ins of each API, and the SSRF
guard between them and the platform's own network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    ActionStatus,
    CreateIntegrationV1,
    CreateIssueV1,
    DiscordSettingsV1,
    EmbedFieldV1,
    ExecuteActionV1,
    GitHubSettingsV1,
    IntegrationProvider,
    IntegrationV1,
    PostWebhookV1,
    SendEmbedV1,
    SendMessageV1,
    SlackSettingsV1,
    WebhookSettingsV1,
    action_id,
)
from contracts.mimic.streams import EVENTS
from contracts.mimic.subjects import ACTION_EXECUTE, INTEGRATION_CREATE
from shared.bus import Bus, RemoteError
from shared.service import ServiceApp
from tests.mimic.conftest import (
    ORG,
    Published,
    StartMimic,
    eventually,
    mimic_dead_letters,
    published,
)
from tests.mimic.outbound_stubs import BOT_TOKEN, GITHUB_TOKEN, SLACK_BOT, Outside
from tests.shared.net.server import LoopbackServer, serving

PUBLIC_KEY = "a" * 64


@pytest.fixture
async def outside() -> AsyncIterator[tuple[Outside, LoopbackServer]]:
    stub = Outside()
    async with serving(stub.app) as server:
        yield stub, server


def _apis(server: LoopbackServer) -> dict[str, Any]:
    return {
        "discord_api_base": f"{server.url}/discord/api/v10",
        "slack_api_base": f"{server.url}/slack/api",
        "github_api_base": f"{server.url}/github",
    }


@pytest.fixture
async def allowed(start_mimic: StartMimic, outside: tuple[Outside, LoopbackServer]) -> ServiceApp:
    """mimic with the operator's allowance for the loopback stand-ins."""
    return await start_mimic(outbound_allowed_networks=["127.0.0.1/32"], **_apis(outside[1]))


async def _create(bus: Bus, settings: object) -> IntegrationV1:
    request = CreateIntegrationV1.model_validate({"name": "out", "settings": settings})
    return await bus.request(INTEGRATION_CREATE, request, org_id=ORG)


async def _run(bus: Bus, command: ExecuteActionV1) -> Published:
    await bus.publish(ACTION_EXECUTE, command, org_id=ORG)
    aid = action_id(ORG, command.idempotency_key)

    async def done() -> bool:
        return bool(await published(bus, EVENTS.name, f"mimic.v1.evt.action.{ORG}.{aid}.*"))

    await eventually(done, timeout=15)
    [event] = await published(bus, EVENTS.name, f"mimic.v1.evt.action.{ORG}.{aid}.*")
    return event


async def test_discord_messages_embeds_and_rate_limits(
    allowed: ServiceApp, probe: Bus, outside: tuple[Outside, LoopbackServer]
) -> None:
    stub, server = outside
    hook = await _create(
        probe,
        DiscordSettingsV1(
            application_id="123456789",
            public_key=PUBLIC_KEY,
            webhook_url=f"{server.url}/discord/api/v10/webhooks/1/tok",
            bot_token=BOT_TOKEN,
        ),
    )
    assert hook.settings == {"application_id": "123456789", "public_key": PUBLIC_KEY}
    assert hook.secrets_set == ["bot_token", "webhook_url"]
    stub.throttle = 1
    event = await _run(
        probe,
        ExecuteActionV1(
            idempotency_key="d-1",
            provider=IntegrationProvider.DISCORD,
            action=SendMessageV1(text="@everyone deploy finished"),
            metadata={"task_id": "t-9"},
        ),
    )
    assert event.subject.endswith(".completed")
    assert event.data["result"]["message_id"] == "1100000000000000001"
    assert event.data["metadata"] == {"task_id": "t-9"}
    _throttled, sent = stub.calls
    assert sent[1] == {"content": "@everyone deploy finished", "allowed_mentions": {"parse": []}}

    embed = await _run(
        probe,
        ExecuteActionV1(
            idempotency_key="d-2",
            integration_id=hook.integration_id,
            action=SendEmbedV1(
                title="Report",
                description="All green",
                color=0x00FF00,
                fields=[EmbedFieldV1(name="tests", value="412 passed", inline=True)],
                channel_id="777",
            ),
        ),
    )
    assert embed.data["result"] == {
        "status": 200,
        "message_id": "1100000000000000002",
        "channel_id": "777",
    }
    path, body, headers = stub.calls[-1]
    assert path == "/discord/api/v10/channels/777/messages"
    assert body["embeds"][0]["fields"] == [{"name": "tests", "value": "412 passed", "inline": True}]
    assert headers["authorization"] == f"Bot {BOT_TOKEN}"

    too_long = await _run(
        probe,
        ExecuteActionV1(
            idempotency_key="d-3",
            provider=IntegrationProvider.DISCORD,
            action=SendMessageV1(text="x" * 2001),
        ),
    )
    assert too_long.subject.endswith(".failed")
    assert too_long.data["error"]["code"] == MimicErrorCode.ACTION_INVALID
    assert len(stub.calls) == 3


async def test_slack_github_and_a_signed_custom_webhook(
    allowed: ServiceApp, probe: Bus, outside: tuple[Outside, LoopbackServer]
) -> None:
    stub, server = outside
    await _create(
        probe, SlackSettingsV1(signing_secret="s" * 16, bot_token=SLACK_BOT, default_channel="C1")
    )
    slack = await _run(
        probe,
        ExecuteActionV1(
            idempotency_key="s-1",
            provider=IntegrationProvider.SLACK,
            action=SendEmbedV1(
                title="Deploy",
                description="*done*",
                fields=[EmbedFieldV1(name="env", value="prod")],
            ),
        ),
    )
    assert slack.data["result"] == {"ts": "1503435956.000247", "channel": "C1"}
    _, body, _ = stub.calls[-1]
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section"]
    missing = await _run(
        probe,
        ExecuteActionV1(
            idempotency_key="s-2",
            provider=IntegrationProvider.SLACK,
            action=SendMessageV1(text="hi", channel_id="C-missing"),
        ),
    )
    assert missing.data["error"]["code"] == MimicErrorCode.ACTION_FAILED
    assert "channel_not_found" in missing.data["error"]["message"]

    await _create(
        probe,
        GitHubSettingsV1(
            webhook_secret="w" * 16, token=GITHUB_TOKEN, default_repository="octo/app"
        ),
    )
    issue = await _run(
        probe,
        ExecuteActionV1(
            idempotency_key="g-1",
            provider=IntegrationProvider.GITHUB,
            action=CreateIssueV1(title="Flaky test", body="seen twice", labels=["ci"]),
        ),
    )
    assert issue.data["result"] == {
        "number": 1347,
        "url": "https://github.com/octo/app/issues/1347",
    }

    hook = await _create(probe, WebhookSettingsV1(outbound_url=f"{server.url}/receiver"))
    assert hook.generated_secret is not None
    stub.receiver_secret = hook.generated_secret
    posted = await _run(
        probe,
        ExecuteActionV1(
            idempotency_key="w-1",
            integration_id=hook.integration_id,
            action=PostWebhookV1(event="task.done", payload={"task": "t-1", "ok": True}),
        ),
    )
    assert posted.data["result"] == {"status": 202}
    path, body, headers = stub.calls[-1]
    assert path == "/receiver"
    assert body["payload"] == {"task": "t-1", "ok": True}
    assert headers["x-fluxos-delivery"] == action_id(ORG, "w-1")


async def test_an_action_runs_once_per_key_and_conflicts_are_refused(
    allowed: ServiceApp, probe: Bus, outside: tuple[Outside, LoopbackServer]
) -> None:
    stub, server = outside
    await _create(
        probe,
        SlackSettingsV1(signing_secret="s" * 16, webhook_url=f"{server.url}/slack/hooks/T/B/x"),
    )
    command = ExecuteActionV1(
        idempotency_key="once", provider=IntegrationProvider.SLACK, action=SendMessageV1(text="hi")
    )
    await _run(probe, command)
    await probe.publish(ACTION_EXECUTE, command, org_id=ORG)
    await probe.publish(
        ACTION_EXECUTE,
        command.model_copy(update={"action": SendMessageV1(text="changed")}),
        org_id=ORG,
    )

    async def refused() -> bool:
        return len(await mimic_dead_letters(probe)) == 1

    await eventually(refused)
    [letter] = await mimic_dead_letters(probe)
    assert letter.letter.code == MimicErrorCode.IDEMPOTENCY_CONFLICT
    assert len(stub.calls) == 1


async def test_outbound_urls_cannot_reach_private_addresses(
    start_mimic: StartMimic, probe: Bus, outside: tuple[Outside, LoopbackServer]
) -> None:
    stub, server = outside
    await start_mimic(**_apis(server))  # the default policy: public addresses only
    with pytest.raises(RemoteError) as caught:
        await _create(probe, WebhookSettingsV1(outbound_url=f"{server.url}/receiver"))
    assert caught.value.code == MimicErrorCode.DESTINATION_BLOCKED
    with pytest.raises(RemoteError) as caught:
        await _create(
            probe, WebhookSettingsV1(outbound_url="http://169.254.169.254/latest/meta-data")
        )
    assert caught.value.code == MimicErrorCode.DESTINATION_BLOCKED

    # A name is judged when it resolves: "localhost" is accepted as a setting, refused on use.
    await _create(probe, WebhookSettingsV1(outbound_url=f"http://localhost:{server.port}/receiver"))
    blocked = await _run(
        probe,
        ExecuteActionV1(
            idempotency_key="ssrf-1",
            provider=IntegrationProvider.WEBHOOK,
            action=PostWebhookV1(payload={"x": 1}),
        ),
    )
    assert blocked.data["error"]["code"] == MimicErrorCode.DESTINATION_BLOCKED
    assert blocked.data["status"] == ActionStatus.FAILED
    assert stub.calls == []
