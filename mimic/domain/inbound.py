"""Inbound webhooks in one shape: each provider's body mapped to the standard event's fields.

Everything here runs after the signature was verified; the body is still untrusted in shape, so
any field may be missing or of the wrong type, and a body that is not what the provider sends
is refused as malformed rather than half-read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qs

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import ExternalActorV1, IntegrationProvider, ReplyHandleV1
from mimic.domain.errors import WebhookRejected
from mimic.domain.signatures import Headers

_NOT_TOKEN: Final = re.compile(r"[^a-z0-9_-]+")
MAX_TEXT: Final = 10_000


def event_token(*parts: str | None) -> str:
    """A provider's event name as one safe subject token: `invoice.paid` -> `invoice_paid`."""
    raw = "_".join(p for p in parts if p)
    token = _NOT_TOKEN.sub("_", raw.lower()).strip("_-")
    return token[:64].rstrip("_-") or "unknown"


@dataclass(frozen=True)
class Inbound:
    """A verified webhook, read."""

    delivery_id: str
    event_type: str
    payload: dict[str, Any]
    occurred_at: datetime | None = None
    actor: ExternalActorV1 | None = None
    channel_id: str | None = None
    text: str | None = None
    command: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    reply: ReplyHandleV1 | None = None
    handshake: bool = False
    """A provider's check that the endpoint works: answered, never published."""
    response: dict[str, Any] | None = None
    """The body to answer with; None for the standard acknowledgement."""


def malformed(why: str) -> WebhookRejected:
    return WebhookRejected(MimicErrorCode.WEBHOOK_MALFORMED, why, status=400)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise malformed("the body is not JSON") from None
    if not isinstance(value, dict):
        raise malformed("the body is not a JSON object")
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return _str(value)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _clip(text: str | None) -> str | None:
    return text[:MAX_TEXT] if text is not None else None


def _fallback_id(headers: Headers, name: str) -> str:
    """Where a provider sends no delivery id, the signature is one: it covers the timestamp and
    the body, so a byte-for-byte replay repeats it and anything else differs."""
    return "sig-" + hashlib.sha256(headers.get(name, "").encode()).hexdigest()[:40]


# ------------------------------------------------------------------------------- GitHub
def read_github(headers: Headers, body: bytes) -> Inbound:
    event = headers.get("x-github-event")
    delivery = headers.get("x-github-delivery")
    if not event or not delivery:
        raise malformed("X-GitHub-Event and X-GitHub-Delivery are required")
    data = _json_object(body)
    sender = _obj(data.get("sender"))
    repo = _obj(data.get("repository"))
    text = None
    for holder in ("issue", "pull_request", "comment", "release", "discussion"):
        obj = _obj(data.get(holder))
        text = _str(obj.get("title")) or _str(obj.get("body")) or _str(obj.get("name"))
        if text:
            break
    if text is None:
        text = _str(_obj(data.get("head_commit")).get("message"))
    login = _str(sender.get("login"))
    return Inbound(
        delivery_id=delivery,
        event_type=event_token(event, _str(data.get("action"))),
        payload=data,
        actor=ExternalActorV1(id=_id(sender.get("id")) or login or "", name=login)
        if sender
        else None,
        channel_id=_str(repo.get("full_name")),
        text=_clip(text),
        handshake=event == "ping",
    )


# ------------------------------------------------------------------------------- Stripe
def read_stripe(headers: Headers, body: bytes) -> Inbound:
    data = _json_object(body)
    event_id, kind = _str(data.get("id")), _str(data.get("type"))
    if event_id is None or kind is None:
        raise malformed("a Stripe event has an id and a type")
    created = data.get("created")
    occurred = (
        datetime.fromtimestamp(created, UTC)
        if isinstance(created, int) and not isinstance(created, bool) and created > 0
        else None
    )
    return Inbound(
        delivery_id=event_id, event_type=event_token(kind), payload=data, occurred_at=occurred
    )


# ------------------------------------------------------------------------------- Slack
def read_slack(headers: Headers, body: bytes) -> Inbound:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return _slack_form(headers, body)
    data = _json_object(body)
    kind = _str(data.get("type"))
    if kind == "url_verification":
        challenge = _str(data.get("challenge"))
        if challenge is None:
            raise malformed("url_verification without a challenge")
        return Inbound(
            delivery_id=_fallback_id(headers, "x-slack-signature"),
            event_type="url_verification",
            payload={},
            handshake=True,
            response={"challenge": challenge},
        )
    if kind != "event_callback":
        raise malformed(f"unsupported Slack body type {kind!r}")
    event = _obj(data.get("event"))
    event_id = _str(data.get("event_id"))
    if event_id is None or not event:
        raise malformed("an event_callback has an event_id and an event")
    user = _str(event.get("user"))
    when = data.get("event_time")
    return Inbound(
        delivery_id=event_id,
        event_type=event_token(_str(event.get("type")), _str(event.get("subtype"))),
        payload=data,
        occurred_at=datetime.fromtimestamp(when, UTC) if isinstance(when, int) else None,
        actor=ExternalActorV1(id=user) if user else None,
        channel_id=_str(event.get("channel")),
        text=_clip(_str(event.get("text"))),
    )


def _slack_form(headers: Headers, body: bytes) -> Inbound:
    try:
        form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError):
        raise malformed("the body is not a form") from None
    fields = {k: v[0] for k, v in form.items() if v}
    if "payload" in fields:  # interactivity: buttons, menus, modals
        try:
            data = json.loads(fields["payload"])
        except ValueError:
            raise malformed("the interaction payload is not JSON") from None
        if not isinstance(data, dict):
            raise malformed("the interaction payload is not an object")
        user = _obj(data.get("user"))
        response_url = _str(data.get("response_url"))
        return Inbound(
            delivery_id=_str(data.get("trigger_id")) or _fallback_id(headers, "x-slack-signature"),
            event_type=event_token(_str(data.get("type")) or "interaction"),
            payload=data,
            actor=ExternalActorV1(id=_str(user.get("id")) or "", name=_str(user.get("username")))
            if user
            else None,
            channel_id=_str(_obj(data.get("channel")).get("id")),
            reply=ReplyHandleV1(kind="slack_response_url", url=response_url)
            if response_url
            else None,
        )
    command = _str(fields.get("command"))
    if command is None:
        raise malformed("a Slack form post is a slash command or an interaction")
    response_url = _str(fields.get("response_url"))
    user_id = _str(fields.get("user_id"))
    return Inbound(
        delivery_id=_str(fields.get("trigger_id")) or _fallback_id(headers, "x-slack-signature"),
        event_type="slash_command",
        payload=dict(fields),
        actor=ExternalActorV1(id=user_id, name=_str(fields.get("user_name"))) if user_id else None,
        channel_id=_str(fields.get("channel_id")),
        text=_clip(fields.get("text", "")),
        command=command.lstrip("/"),
        reply=ReplyHandleV1(kind="slack_response_url", url=response_url) if response_url else None,
    )


# ------------------------------------------------------------------------------- Discord
_DISCORD_TYPES: Final = {
    1: "ping",
    2: "application_command",
    3: "message_component",
    4: "application_command_autocomplete",
    5: "modal_submit",
}


def read_discord(headers: Headers, body: bytes) -> Inbound:
    data = _json_object(body)
    kind = data.get("type")
    interaction_id = _id(data.get("id"))
    if not isinstance(kind, int) or kind not in _DISCORD_TYPES or interaction_id is None:
        raise malformed("not a Discord interaction")
    if kind == 1:
        return Inbound(
            delivery_id=interaction_id,
            event_type="ping",
            payload={},
            handshake=True,
            response={"type": 1},
        )
    user = _obj(_obj(data.get("member")).get("user")) or _obj(data.get("user"))
    command_data = _obj(data.get("data"))
    options: dict[str, Any] = {}
    for option in command_data.get("options") or []:
        if isinstance(option, dict) and isinstance(option.get("name"), str):
            options[option["name"]] = option.get("value")
    token, app_id = _str(data.get("token")), _id(data.get("application_id"))
    text = " ".join(str(v) for v in options.values() if isinstance(v, str | int | float)) or None
    # Autocomplete wants choices; everything else is acknowledged now and answered later
    # ("deferred"), since whatever reacts to the event may take longer than Discord's 3 s.
    response = {"type": 8, "data": {"choices": []}} if kind == 4 else {"type": 5}
    return Inbound(
        delivery_id=interaction_id,
        event_type=_DISCORD_TYPES[kind],
        payload=data,
        actor=ExternalActorV1(id=_id(user.get("id")) or "", name=_str(user.get("username")))
        if user
        else None,
        channel_id=_id(data.get("channel_id")),
        text=_clip(text),
        command=_str(command_data.get("name")) or _str(command_data.get("custom_id")),
        options=options,
        reply=ReplyHandleV1(kind="discord_interaction", application_id=app_id, token=token)
        if token and app_id
        else None,
        response=response,
    )


# ------------------------------------------------------------------------------- custom
CUSTOM_EVENT_HEADER: Final = "x-fluxos-event"
CUSTOM_DELIVERY_HEADER: Final = "x-fluxos-delivery"


def read_custom(headers: Headers, body: bytes) -> Inbound:
    data = _json_object(body)
    delivery = headers.get(CUSTOM_DELIVERY_HEADER) or _fallback_id(headers, "x-fluxos-signature")
    if len(delivery) > 200:
        raise malformed("the delivery id is longer than 200 characters")
    kind = headers.get(CUSTOM_EVENT_HEADER) or _str(data.get("type")) or "message"
    return Inbound(
        delivery_id=delivery,
        event_type=event_token(kind),
        payload=data,
        text=_clip(_str(data.get("text"))),
    )


READERS: Final[Mapping[IntegrationProvider, Callable[[Headers, bytes], Inbound]]] = {
    IntegrationProvider.GITHUB: read_github,
    IntegrationProvider.STRIPE: read_stripe,
    IntegrationProvider.SLACK: read_slack,
    IntegrationProvider.DISCORD: read_discord,
    IntegrationProvider.WEBHOOK: read_custom,
}
