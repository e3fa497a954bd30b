"""Integrations: which settings are secret, and how each provider's webhooks are verified."""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    IntegrationProvider,
    IntegrationSettingsV1,
    WebhookSettingsV1,
)
from mimic.domain import signatures
from mimic.domain.errors import MimicError
from mimic.domain.signatures import Headers

SECRET_FIELDS: Final[Mapping[IntegrationProvider, frozenset[str]]] = {
    IntegrationProvider.DISCORD: frozenset({"bot_token", "webhook_url"}),
    IntegrationProvider.SLACK: frozenset({"signing_secret", "bot_token", "webhook_url"}),
    IntegrationProvider.GITHUB: frozenset({"webhook_secret", "token"}),
    IntegrationProvider.STRIPE: frozenset({"webhook_secret"}),
    IntegrationProvider.WEBHOOK: frozenset({"signing_secret", "outbound_url"}),
}

URL_FIELDS: Final = frozenset({"webhook_url", "outbound_url", "api_base_url"})
"""Settings that are URLs mimic will call: checked against the outbound policy when saved."""


@dataclass(frozen=True)
class SplitSettings:
    public: dict[str, str]
    secrets: dict[str, str]
    generated_secret: str | None = None


def split_settings(settings: IntegrationSettingsV1) -> SplitSettings:
    """Public settings (stored plain) apart from secrets (stored encrypted)."""
    provider = IntegrationProvider(settings.provider)
    generated = None
    if isinstance(settings, WebhookSettingsV1) and settings.signing_secret is None:
        generated = "whsec_" + random_secrets.token_urlsafe(32)
        settings = settings.model_copy(update={"signing_secret": generated})
    values = settings.model_dump(exclude={"provider"}, exclude_none=True)
    hidden = SECRET_FIELDS[provider]
    return SplitSettings(
        public={k: str(v) for k, v in values.items() if k not in hidden},
        secrets={k: str(v) for k, v in values.items() if k in hidden},
        generated_secret=generated,
    )


def verify_inbound(
    provider: IntegrationProvider,
    headers: Headers,
    body: bytes,
    *,
    public: Mapping[str, str],
    secrets: Mapping[str, str],
    now: float,
    tolerance: int,
) -> None:
    """Raise `WebhookRejected` unless the body is signed by this integration's counterpart."""
    match provider:
        case IntegrationProvider.STRIPE:
            signatures.verify_stripe(
                headers, body, _need(secrets, "webhook_secret"), now=now, tolerance=tolerance
            )
        case IntegrationProvider.GITHUB:
            signatures.verify_github(headers, body, _need(secrets, "webhook_secret"))
        case IntegrationProvider.SLACK:
            signatures.verify_slack(
                headers, body, _need(secrets, "signing_secret"), now=now, tolerance=tolerance
            )
        case IntegrationProvider.DISCORD:
            signatures.verify_discord(
                headers, body, _need(public, "public_key"), now=now, tolerance=tolerance
            )
        case IntegrationProvider.WEBHOOK:
            signatures.verify_custom(
                headers, body, _need(secrets, "signing_secret"), now=now, tolerance=tolerance
            )


def _need(values: Mapping[str, str], name: str) -> str:
    value = values.get(name)
    if not value:
        raise MimicError(MimicErrorCode.INTEGRATION_INVALID, f"the integration has no {name}")
    return value
