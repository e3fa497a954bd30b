"""Outbound actions: what each provider can do, within the limits the provider enforces.

Checked before anything is sent, so a message Discord would refuse (2,001 characters, an embed
over 6,000) fails here with `mimic.action_invalid` instead of as a provider error later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    ActionV1,
    CreateIssueV1,
    IntegrationProvider,
    PostWebhookV1,
    ReplyInteractionV1,
    SendEmbedV1,
    SendMessageV1,
)
from mimic.domain.errors import MimicError

DISCORD_CONTENT_MAX: Final = 2000
DISCORD_EMBED_TOTAL_MAX: Final = 6000
SLACK_TEXT_MAX: Final = 40_000
SLACK_SECTION_MAX: Final = 3000
SLACK_HEADER_MAX: Final = 150
SLACK_BLOCKS_MAX: Final = 50
WEBHOOK_BODY_MAX: Final = 256 * 1024

SUPPORTED: Final[Mapping[IntegrationProvider, frozenset[str]]] = {
    IntegrationProvider.DISCORD: frozenset({"send_message", "send_embed", "reply_interaction"}),
    IntegrationProvider.SLACK: frozenset({"send_message", "send_embed", "reply_interaction"}),
    IntegrationProvider.GITHUB: frozenset({"create_issue"}),
    IntegrationProvider.WEBHOOK: frozenset({"post_webhook", "send_message"}),
    IntegrationProvider.STRIPE: frozenset(),
}


def invalid(message: str) -> MimicError:
    return MimicError(MimicErrorCode.ACTION_INVALID, message)


def embed_length(embed: SendEmbedV1) -> int:
    """Characters Discord counts towards an embed's 6,000."""
    parts = [embed.title, embed.description, embed.footer]
    parts += [f.name for f in embed.fields] + [f.value for f in embed.fields]
    return sum(len(p) for p in parts if p)


def check_action(
    provider: IntegrationProvider,
    action: ActionV1,
    *,
    public: Mapping[str, str],
    secrets: Mapping[str, str],
) -> None:
    if action.type not in SUPPORTED[provider]:
        can = ", ".join(sorted(SUPPORTED[provider])) or "nothing (inbound only)"
        raise invalid(f"a {provider.value} integration cannot {action.type}; it can: {can}")
    match provider:
        case IntegrationProvider.DISCORD:
            _check_discord(action, public, secrets)
        case IntegrationProvider.SLACK:
            _check_slack(action, public, secrets)
        case IntegrationProvider.GITHUB:
            _check_github(action, public, secrets)
        case IntegrationProvider.WEBHOOK:
            _check_webhook(action, secrets)
        case IntegrationProvider.STRIPE:  # pragma: no cover - SUPPORTED is empty
            raise invalid("stripe integrations are inbound only")


def _channel_route(
    action: SendMessageV1 | SendEmbedV1,
    public: Mapping[str, str],
    secrets: Mapping[str, str],
    default: str,
) -> None:
    if "webhook_url" in secrets and action.channel_id is None:
        return
    if "bot_token" not in secrets:
        raise invalid("the integration has neither a webhook URL nor a bot token to post with")
    if action.channel_id is None and default not in public:
        raise invalid("name a channel_id: the integration has no default channel")


def _check_discord(action: ActionV1, public: Mapping[str, str], secrets: Mapping[str, str]) -> None:
    if isinstance(action, SendMessageV1):
        if len(action.text) > DISCORD_CONTENT_MAX:
            raise invalid(f"Discord messages hold at most {DISCORD_CONTENT_MAX} characters")
        _channel_route(action, public, secrets, "default_channel_id")
    elif isinstance(action, SendEmbedV1):
        if embed_length(action) > DISCORD_EMBED_TOTAL_MAX:
            raise invalid(f"a Discord embed holds at most {DISCORD_EMBED_TOTAL_MAX} characters")
        if not (action.title or action.description or action.fields):
            raise invalid("an embed needs a title, a description or fields")
        _channel_route(action, public, secrets, "default_channel_id")
    elif isinstance(action, ReplyInteractionV1):
        reply = action.reply
        if reply.kind != "discord_interaction" or not reply.token or not reply.application_id:
            raise invalid("a Discord reply needs a discord_interaction handle from its event")
        if len(action.text) > DISCORD_CONTENT_MAX:
            raise invalid(f"Discord messages hold at most {DISCORD_CONTENT_MAX} characters")


def _check_slack(action: ActionV1, public: Mapping[str, str], secrets: Mapping[str, str]) -> None:
    if isinstance(action, SendMessageV1):
        if len(action.text) > SLACK_TEXT_MAX:
            raise invalid(f"Slack messages hold at most {SLACK_TEXT_MAX} characters")
        _channel_route(action, public, secrets, "default_channel")
    elif isinstance(action, SendEmbedV1):
        if action.title and len(action.title) > SLACK_HEADER_MAX:
            raise invalid(f"a Slack header holds at most {SLACK_HEADER_MAX} characters")
        if action.description and len(action.description) > SLACK_SECTION_MAX:
            raise invalid(f"a Slack section holds at most {SLACK_SECTION_MAX} characters")
        if not (action.title or action.description or action.fields):
            raise invalid("an embed needs a title, a description or fields")
        _channel_route(action, public, secrets, "default_channel")
    elif isinstance(action, ReplyInteractionV1) and (
        action.reply.kind != "slack_response_url" or not action.reply.url
    ):
        raise invalid("a Slack reply needs a slack_response_url handle from its event")


def _check_github(action: ActionV1, public: Mapping[str, str], secrets: Mapping[str, str]) -> None:
    assert isinstance(action, CreateIssueV1)
    if "token" not in secrets:
        raise invalid("creating issues needs a GitHub token on the integration")
    if action.repository is None and "default_repository" not in public:
        raise invalid("name the repository: the integration has no default repository")


def _check_webhook(action: ActionV1, secrets: Mapping[str, str]) -> None:
    if "outbound_url" not in secrets:
        raise invalid("the integration has no outbound_url to post to")
    if isinstance(action, PostWebhookV1):
        size = len(json.dumps(action.payload, separators=(",", ":")).encode())
        if size > WEBHOOK_BODY_MAX:
            raise invalid(f"the payload is {size} bytes; at most {WEBHOOK_BODY_MAX}")
