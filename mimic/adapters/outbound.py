"""Outbound actions over each provider's HTTP API, through the SSRF guard.

Every URL here may come from an organisation (a webhook URL, a GitHub Enterprise base, a Slack
response_url), so every request goes through `shared.net`'s guarded client: private, loopback
and link-local targets are refused unless the operator allowed them, and redirects are not
followed (a POST that redirects elsewhere is not what the integration was set up for).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

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
from mimic.adapters.providers.http import call, retry_after
from mimic.domain.outcomes import ActionOutcome, Completed, Rejected, Unavailable
from mimic.domain.signatures import sign_custom
from shared.net import BlockedDestination, InvalidUrl, OutboundPolicy, guarded_client


class Outbound:
    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        timeout: float,
        discord_api: str,
        slack_api: str,
        github_api: str,
    ) -> None:
        self._http = guarded_client(policy, timeout=timeout, follow_redirects=False)
        self.discord_api = discord_api.rstrip("/")
        self.slack_api = slack_api.rstrip("/")
        self.github_api = github_api.rstrip("/")

    async def close(self) -> None:
        await self._http.aclose()

    async def run(
        self,
        provider: IntegrationProvider,
        action: ActionV1,
        *,
        action_id: str,
        public: Mapping[str, str],
        secrets: Mapping[str, str],
    ) -> ActionOutcome:
        try:
            match provider:
                case IntegrationProvider.DISCORD:
                    return await self._discord(action, public, secrets)
                case IntegrationProvider.SLACK:
                    return await self._slack(action, public, secrets)
                case IntegrationProvider.GITHUB:
                    assert isinstance(action, CreateIssueV1)
                    return await self._github(action, public, secrets)
                case IntegrationProvider.WEBHOOK:
                    return await self._webhook(action, action_id, secrets)
                case _:
                    return Rejected(MimicErrorCode.ACTION_INVALID.value, "inbound only")
        except BlockedDestination as exc:
            return Rejected(MimicErrorCode.DESTINATION_BLOCKED.value, exc.message)
        except InvalidUrl as exc:
            return Rejected(MimicErrorCode.ACTION_INVALID.value, exc.message)

    # ------------------------------------------------------------------ Discord
    async def _discord(
        self, action: ActionV1, public: Mapping[str, str], secrets: Mapping[str, str]
    ) -> ActionOutcome:
        if isinstance(action, ReplyInteractionV1):
            reply = action.reply
            url = f"{self.discord_api}/webhooks/{reply.application_id}/{reply.token}"
            return await self._post(url, {"content": action.text}, _read_discord)
        body: dict[str, Any]
        if isinstance(action, SendEmbedV1):
            body = {"embeds": [_discord_embed(action)]}
            if action.text:
                body["content"] = action.text
        else:
            assert isinstance(action, SendMessageV1)
            body = {"content": action.text}
        body["allowed_mentions"] = {"parse": []}  # never ping @everyone on someone's behalf
        if action.channel_id is None and "webhook_url" in secrets:
            return await self._post(secrets["webhook_url"], body, _read_discord, wait=True)
        channel = action.channel_id or public["default_channel_id"]
        headers = {"Authorization": f"Bot {secrets['bot_token']}"}
        url = f"{self.discord_api}/channels/{channel}/messages"
        return await self._post(url, body, _read_discord, headers=headers)

    # ------------------------------------------------------------------ Slack
    async def _slack(
        self, action: ActionV1, public: Mapping[str, str], secrets: Mapping[str, str]
    ) -> ActionOutcome:
        if isinstance(action, ReplyInteractionV1):
            assert action.reply.url is not None
            body = {"text": action.text, "response_type": "in_channel"}
            return await self._post(action.reply.url, body, _read_slack_hook)
        assert isinstance(action, SendMessageV1 | SendEmbedV1)
        body = _slack_blocks(action) if isinstance(action, SendEmbedV1) else {"text": action.text}
        if action.channel_id is None and "webhook_url" in secrets:
            return await self._post(secrets["webhook_url"], body, _read_slack_hook)
        body["channel"] = action.channel_id or public["default_channel"]
        headers = {"Authorization": f"Bearer {secrets['bot_token']}"}
        url = f"{self.slack_api}/chat.postMessage"
        return await self._post(url, body, _read_slack_api, headers=headers)

    # ------------------------------------------------------------------ GitHub
    async def _github(
        self, action: CreateIssueV1, public: Mapping[str, str], secrets: Mapping[str, str]
    ) -> ActionOutcome:
        base = (public.get("api_base_url") or self.github_api).rstrip("/")
        repository = action.repository or public["default_repository"]
        body: dict[str, Any] = {"title": action.title}
        if action.body:
            body["body"] = action.body
        if action.labels:
            body["labels"] = action.labels
        headers = {
            "Authorization": f"Bearer {secrets['token']}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        url = f"{base}/repos/{repository}/issues"
        return await self._post(url, body, _read_github, headers=headers)

    # ------------------------------------------------------------------ custom webhook
    async def _webhook(
        self, action: ActionV1, action_id: str, secrets: Mapping[str, str]
    ) -> ActionOutcome:
        if isinstance(action, PostWebhookV1):
            event, payload = action.event, action.payload
        else:
            assert isinstance(action, SendMessageV1)
            event, payload = "message", {"text": action.text}
        body = json.dumps(
            {
                "event": event,
                "action_id": action_id,
                "sent_at": datetime.now(UTC).isoformat(),
                "payload": payload,
            },
            separators=(",", ":"),
        ).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Fluxos-Event": event,
            "X-Fluxos-Delivery": action_id,
            "X-Fluxos-Timestamp": str(timestamp),
        }
        if "signing_secret" in secrets:
            headers["X-Fluxos-Signature"] = sign_custom(secrets["signing_secret"], timestamp, body)
        url = secrets["outbound_url"]
        return await call(lambda: self._http.post(url, content=body, headers=headers), _read_plain)

    async def _post(
        self,
        url: str,
        body: Mapping[str, Any],
        read: Callable[[httpx.Response], ActionOutcome],
        *,
        headers: Mapping[str, str] | None = None,
        wait: bool = False,
    ) -> ActionOutcome:
        params = {"wait": "true"} if wait else None
        return await call(
            lambda: self._http.post(url, json=dict(body), headers=headers, params=params), read
        )


# ---------------------------------------------------------------------- request bodies
def _discord_embed(action: SendEmbedV1) -> dict[str, Any]:
    embed: dict[str, Any] = {}
    for name in ("title", "description", "url", "color"):
        value = getattr(action, name)
        if value is not None:
            embed[name] = value
    if action.fields:
        embed["fields"] = [f.model_dump() for f in action.fields]
    if action.footer:
        embed["footer"] = {"text": action.footer}
    return embed


def _slack_blocks(action: SendEmbedV1) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if action.title:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": action.title}})
    if action.description:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": action.description}})
    for start in range(0, len(action.fields), 10):  # Slack: at most 10 fields per section
        chunk = action.fields[start : start + 10]
        blocks.append(
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{f.name}*\n{f.value}"} for f in chunk],
            }
        )
    if action.footer:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": action.footer}]})
    fallback = action.text or action.title or action.description or "message"
    return {"text": fallback, "blocks": blocks}


# ---------------------------------------------------------------------- response readers
def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _common(response: httpx.Response, name: str, detail: str) -> ActionOutcome:
    """What every API means by 429 and 5xx (not now), and by any other 4xx (not this)."""
    text = f"{name} {response.status_code}: {detail}"[:500]
    if response.status_code == 429 or response.status_code >= 500:
        return Unavailable(text, retry_after(response))
    return Rejected(MimicErrorCode.ACTION_FAILED.value, text)


def _read_discord(response: httpx.Response) -> ActionOutcome:
    data = _json(response)
    if response.status_code in (200, 204):
        result: dict[str, str | int] = {"status": response.status_code}
        if isinstance(data.get("id"), str):
            result["message_id"] = data["id"]
        if isinstance(data.get("channel_id"), str):
            result["channel_id"] = data["channel_id"]
        return Completed(result)
    if response.status_code == 429:
        wait = data.get("retry_after")
        seconds = float(wait) if isinstance(wait, int | float) else retry_after(response)
        return Unavailable(f"discord rate limit: {data.get('message', '')}", seconds)
    return _common(response, "discord", str(data.get("message") or response.text[:200]))


def _read_slack_api(response: httpx.Response) -> ActionOutcome:
    data = _json(response)
    if response.status_code == 200 and data.get("ok") is True:
        result: dict[str, str | int] = {}
        for key in ("ts", "channel"):
            if isinstance(data.get(key), str):
                result[key] = data[key]
        return Completed(result)
    error = str(data.get("error") or response.text[:200])
    if response.status_code == 200 and error == "ratelimited":
        return Unavailable("slack: ratelimited", retry_after(response))
    if response.status_code == 200:
        return Rejected(MimicErrorCode.ACTION_FAILED.value, f"slack: {error}"[:500])
    return _common(response, "slack", error)


def _read_slack_hook(response: httpx.Response) -> ActionOutcome:
    if response.status_code == 200:
        return Completed({"status": 200})
    return _common(response, "slack", response.text[:200])


def _read_github(response: httpx.Response) -> ActionOutcome:
    data = _json(response)
    if response.status_code == 201:
        result: dict[str, str | int] = {}
        if isinstance(data.get("number"), int):
            result["number"] = data["number"]
        if isinstance(data.get("html_url"), str):
            result["url"] = data["html_url"]
        return Completed(result)
    message = str(data.get("message") or response.text[:200])
    limited = response.headers.get("x-ratelimit-remaining") == "0"
    if response.status_code == 403 and (limited or "retry-after" in response.headers):
        wait = retry_after(response)
        reset = response.headers.get("x-ratelimit-reset", "")
        if wait is None and reset.isdigit():
            wait = max(int(reset) - time.time(), 0.0)
        return Unavailable(f"github rate limit: {message}", wait)
    return _common(response, "github", message)


def _read_plain(response: httpx.Response) -> ActionOutcome:
    if 200 <= response.status_code < 300:
        return Completed({"status": response.status_code})
    return _common(response, "webhook", response.text[:200])
