"""The outside world of Flux's documented examples, for any test that asks them (over the bus
or from the web UI): mimic on a real server, Discord's API replaced by a local stand-in, signed
Discord interactions and GitHub deliveries, and a calendar in the workspace."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.mimic.models import CreateIntegrationV1, DiscordSettingsV1, GitHubSettingsV1
from contracts.tentacle import objects as o
from mimic.app import build_app as build_mimic
from mimic.settings import MimicSettings
from shared.service import ServiceApp
from shared.testing.plugin import StartService
from tests.mimic import signing
from tests.mimic.outbound_stubs import Outside
from tests.shared.net.server import serving

APPLICATION = "123456789"
GITHUB_SECRET = "github-hook-secret"
INTERACTION_TOKEN = "ping-token"

Ask = Callable[[Any, Any], Awaitable[Any]]
"""Asks a service over the bus as the organisation under test: (subject, payload) -> answer."""


@asynccontextmanager
async def discord_stand_in() -> AsyncIterator[tuple[Outside, str]]:
    """Discord's API on a local server: what was called, and its base URL."""
    outside = Outside()
    async with serving(outside.app) as server:
        yield outside, server.url


async def start_mimic(running_service: StartService, outside_url: str | None = None) -> ServiceApp:
    extra: dict[str, Any] = {}
    if outside_url is not None:
        extra = {
            "outbound_allowed_networks": ["127.0.0.1/32"],
            "discord_api_base": f"{outside_url}/discord/api/v10",
        }
    return await running_service(build_mimic, MimicSettings, **extra)


def discord_bot(key: Ed25519PrivateKey) -> CreateIntegrationV1:
    return CreateIntegrationV1(
        name="Joke bot",
        settings=DiscordSettingsV1(
            application_id=APPLICATION, public_key=key.public_key().public_bytes_raw().hex()
        ),
    )


def github_hook() -> CreateIntegrationV1:
    return CreateIntegrationV1(
        name="octo/app", settings=GitHubSettingsV1(webhook_secret=GITHUB_SECRET)
    )


def discord_ping(
    key: Ed25519PrivateKey, token: str = INTERACTION_TOKEN
) -> tuple[bytes, dict[str, str]]:
    """Someone uses /ping: the interaction Discord posts, signed."""
    body = json.dumps(
        {
            "id": "1180000000000000002",
            "type": 2,
            "application_id": APPLICATION,
            "token": token,
            "channel_id": "998877",
            "member": {"user": {"id": "42", "username": "ada"}},
            "data": {"name": "ping"},
        }
    ).encode()
    return body, signing.discord(key, body)


def followup_path(token: str = INTERACTION_TOKEN) -> str:
    return f"/discord/api/v10/webhooks/{APPLICATION}/{token}"


def github_deliveries() -> list[tuple[bytes, dict[str, str]]]:
    """A pull request (not an issue: fires nothing), then a new issue, signed."""
    out = []
    for event, delivery, payload in (
        ("pull_request", "d-pr", {"action": "opened", "pull_request": {"title": "Fix"}}),
        ("issues", "d-issue", {"action": "opened", "issue": {"number": 7, "title": "Crash"}}),
    ):
        body = json.dumps(
            {**payload, "repository": {"full_name": "octo/app"}, "sender": {"login": "o"}}
        ).encode()
        out.append((body, signing.github(GITHUB_SECRET, body, event=event, delivery=delivery)))
    return out


async def seed_calendar(ask: Ask) -> date:
    """Two events tomorrow (given out of order), one today, one the day after; tomorrow."""
    today = datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)
    for day, hour, title in (
        (tomorrow, "14:00", "Design review"),
        (tomorrow, "09:30", "Standup"),
        (today, "10:00", "Dentist"),
        (tomorrow + timedelta(days=1), "09:00", "Offsite"),
    ):
        await ask(
            o.OBJECT_CREATE,
            o.CreateObjectV1(
                type="event",
                data={"title": title, "start": f"{day.isoformat()}T{hour}:00Z", "location": "HQ"},
            ),
        )
    return tomorrow
