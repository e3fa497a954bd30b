"""Settings of mimic (environment prefix MIMIC_), read once at start.

Email providers are tried in the order of `MIMIC_EMAIL_PROVIDERS` (failover). The default,
`dev`, is a local SMTP sink inside mimic whose mail lands in `<FLUXOS_HOME>/mail` (a Maildir),
readable at `/dev/mail` on mimic's HTTP port and with `fluxos mail`.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.runtime.home import HomeLayout
from shared.settings import HttpServiceSettings

EmailProviderName = Literal["dev", "smtp", "postmark", "resend"]


class MimicSettings(HttpServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MIMIC_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "mimic"
    http_port: int = Field(default=8081, ge=0, le=65535, description="0 picks a free port.")
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s?#]+$",
        description="Base URL integrators reach mimic at (behind a gateway); shown with paths.",
    )

    # ------------------------------------------------------------------ email
    email_providers: list[EmailProviderName] = Field(
        default=["dev"], min_length=1, description="Providers in failover order."
    )
    email_from: str = Field(
        default="fluxos <noreply@fluxos.localhost>", description="From header of every email."
    )
    provider_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_pool_size: int = Field(default=4, ge=1, le=64)

    postmark_server_token: SecretStr | None = None
    postmark_base_url: str = "https://api.postmarkapp.com"
    postmark_message_stream: str = "outbound"
    postmark_webhook_username: str | None = None
    postmark_webhook_password: SecretStr | None = None

    resend_api_key: SecretStr | None = None
    resend_base_url: str = "https://api.resend.com"
    resend_webhook_secret: SecretStr | None = Field(
        default=None, description="whsec_... signing secret of Resend's status webhooks."
    )

    dev_smtp_host: str = Field(default="127.0.0.1", description="Interface of the dev SMTP sink.")
    dev_smtp_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port.")
    dev_smtp_pool_size: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Connections to the dev SMTP sink. It answers DATA once the message is on "
        "disk (fsync), so this many sends can wait on the disk at once.",
    )
    dev_maildir: Path | None = Field(default=None, description="Default: <FLUXOS_HOME>/mail.")
    dev_mailbox_page: bool = Field(
        default=True,
        description="Serve /dev/mail, to browsers on this machine only, while the dev provider is "
        "in use.",
    )

    # ------------------------------------------------------------------ delivery policy
    rate_recipient_per_hour: int = Field(default=30, ge=1)
    rate_org_per_minute: int = Field(default=600, ge=1)
    rate_channel_per_minute: int = Field(
        default=6_000, ge=1, description="Across all organisations: protects the provider account."
    )
    max_deferrals: int = Field(
        default=3, ge=0, le=6, description="Deferrals for rate limits before a send is refused."
    )
    send_lease_seconds: float = Field(
        default=90.0,
        gt=0,
        description="How long an unfinished provider call is presumed still running.",
    )
    send_pool_size: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Database connections of the send path's own pool (an email's two writes).",
    )

    # ------------------------------------------------------------------ integrations
    webhook_max_bytes: int = Field(default=512 * 1024, ge=1024, le=4 * 1024 * 1024)
    webhook_tolerance_seconds: int = Field(default=300, ge=10, le=3600)
    receipt_retention_days: int = Field(
        default=30, ge=1, description="How long replayed webhook deliveries are recognised."
    )
    integration_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long the ingress reuses an integration it read (a disable takes effect "
        "within this time).",
    )
    outbound_allow_private: bool = Field(
        default=False, description="Let outbound actions reach private addresses (development)."
    )
    outbound_allowed_networks: list[str] = Field(
        default_factory=list, description="Private networks outbound actions may reach anyway."
    )
    outbound_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    discord_api_base: str = "https://discord.com/api/v10"
    slack_api_base: str = "https://slack.com/api"
    github_api_base: str = "https://api.github.com"

    @model_validator(mode="after")
    def _providers_configured(self) -> Self:
        if len(set(self.email_providers)) != len(self.email_providers):
            raise ValueError("MIMIC_EMAIL_PROVIDERS names a provider twice")
        if "postmark" in self.email_providers and self.postmark_server_token is None:
            raise ValueError("the postmark provider needs MIMIC_POSTMARK_SERVER_TOKEN")
        if "resend" in self.email_providers and self.resend_api_key is None:
            raise ValueError("the resend provider needs MIMIC_RESEND_API_KEY")
        return self

    @property
    def maildir(self) -> Path:
        return self.dev_maildir or HomeLayout.at(self.platform.home).mail_dir
