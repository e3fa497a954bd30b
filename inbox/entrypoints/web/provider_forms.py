"""The fields of the settings page's "connect a service" forms, one form per provider."""

from __future__ import annotations

from typing import Final

# (provider, label, [(field, label, secret)]) as mimic's settings models name them.
PROVIDER_FORMS: Final = (
    (
        "discord",
        "Discord",
        [
            ("application_id", "Application ID", False),
            ("public_key", "Public key (hex)", False),
            ("bot_token", "Bot token (optional)", True),
        ],
    ),
    (
        "slack",
        "Slack",
        [
            ("signing_secret", "Signing secret", True),
            ("bot_token", "Bot token (optional)", True),
            ("default_channel", "Default channel (optional)", False),
        ],
    ),
    (
        "github",
        "GitHub",
        [
            ("webhook_secret", "Webhook secret", True),
            ("token", "Token (optional)", True),
            ("default_repository", "Default repository, owner/name (optional)", False),
        ],
    ),
    ("stripe", "Stripe", [("webhook_secret", "Webhook signing secret", True)]),
    ("webhook", "Custom webhook", [("signing_secret", "Signing secret (optional)", True)]),
)
