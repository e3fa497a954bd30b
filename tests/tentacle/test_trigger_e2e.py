"""End to end: a signed Discord /ping interaction posted to mimic's ingress fires a trigger,
the task runs in tentacle, and its result goes back as a Discord follow-up to a local
stand-in of Discord's API (mimic's API base points at it)."""

from __future__ import annotations

import asyncio
import json

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.mimic.models import CreateIntegrationV1, DiscordSettingsV1, IntegrationV1
from contracts.mimic.subjects import INTEGRATION_CREATE
from contracts.tentacle.models import ListTasksV1, TaskStatus
from contracts.tentacle.subjects import TASK_LIST
from contracts.tentacle.triggers import TRIGGER_CREATE, TRIGGER_GET, CreateTriggerV1, TriggerRefV1
from mimic.app import build_app as build_mimic
from mimic.settings import MimicSettings
from shared.service import ServiceApp
from shared.testing.plugin import StartService
from tests.mimic import signing
from tests.mimic.outbound_stubs import Outside
from tests.shared.net.server import serving
from tests.tentacle.conftest import Caller

APPLICATION = "123456789"


async def test_a_discord_ping_is_answered_with_the_task_result(
    tentacle: ServiceApp, running_service: StartService, caller: Caller
) -> None:
    discord = Outside()
    async with serving(discord.app) as outside:
        mimic = await running_service(
            build_mimic,
            MimicSettings,
            outbound_allowed_networks=["127.0.0.1/32"],
            discord_api_base=f"{outside.url}/discord/api/v10",
        )
        key = Ed25519PrivateKey.generate()
        integration: IntegrationV1 = await caller.ask(
            INTEGRATION_CREATE,
            CreateIntegrationV1(
                name="bot",
                settings=DiscordSettingsV1(
                    application_id=APPLICATION,
                    public_key=key.public_key().public_bytes_raw().hex(),
                ),
            ),
        )
        trigger = await caller.ask(
            TRIGGER_CREATE,
            CreateTriggerV1.model_validate(
                {
                    "goal": "Tell a programming joke",
                    "trigger_source": "discord",
                    "integration_id": integration.integration_id,
                    "event_filter": {"command": "ping"},
                    "response_type": "discord_followup",
                }
            ),
        )

        def interaction(name: str, token: str, snowflake: str) -> bytes:
            return json.dumps(
                {
                    "id": snowflake,
                    "type": 2,
                    "application_id": APPLICATION,
                    "token": token,
                    "channel_id": "998877",
                    "member": {"user": {"id": "42", "username": "ada"}},
                    "data": {"name": name},
                }
            ).encode()

        assert mimic.http_url is not None
        async with httpx.AsyncClient(base_url=mimic.http_url, timeout=10) as http:
            # Another command first: it matches no trigger and must get no answer.
            for name, token, snowflake in (
                ("deploy", "deploy-token", "1180000000000000001"),
                ("ping", "ping-token", "1180000000000000002"),
            ):
                body = interaction(name, token, snowflake)
                response = await http.post(
                    integration.ingress_path, content=body, headers=signing.discord(key, body)
                )
                assert response.json() == {"type": 5}  # deferred: the answer comes later

        path = f"/discord/api/v10/webhooks/{APPLICATION}/ping-token"
        deadline = asyncio.get_running_loop().time() + 90
        while not any(call[0] == path for call in discord.calls):
            assert asyncio.get_running_loop().time() < deadline, discord.calls
            await asyncio.sleep(0.1)
        [(_, sent, _)] = [call for call in discord.calls if call[0] == path]

        fired = await caller.ask(TRIGGER_GET, TriggerRefV1(trigger_id=trigger.trigger_id))
        assert fired.fire_count == 1
        [task] = (await caller.ask(TASK_LIST, ListTasksV1())).tasks
        assert task.status is TaskStatus.COMPLETED
        assert task.summary
        assert sent["content"] == task.summary
        # Nothing went to the interaction that matched no trigger.
        assert not any("deploy-token" in call[0] for call in discord.calls)
