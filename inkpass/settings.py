"""Settings of inkpass (environment prefix INKPASS_), read once at start.

Defaults are the production choices; tests lower only the argon2 cost (through these settings),
never the defaults themselves.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class InkPassSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INKPASS_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "inkpass"

    # ------------------------------------------------------------------ passwords
    # Chosen by measurement on the 2-core reference machine (`python -m
    # inkpass.adapters.argon2_calibrate`): m=64 MiB, t=2, p=1 verifies in 100-125 ms there.
    # That is over 3x the memory of OWASP's minimum (19 MiB, t=2) and 9x Keycloak's argon2
    # default (7 MiB, t=5), while a sign-in still feels instant; 128 MiB took 220-255 ms, too
    # slow for an interactive sign-in there. Hashes made with other parameters are upgraded at
    # the next successful sign-in.
    argon2_memory_kib: int = Field(default=65536, ge=8, le=1024 * 1024)
    argon2_time_cost: int = Field(default=2, ge=1, le=20)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    argon2_max_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Hashes computed at once; bounds memory (this times argon2_memory_kib).",
    )

    # ------------------------------------------------------------------ sessions
    access_ttl_s: int = Field(default=30 * 60, ge=60, le=30 * 60)
    refresh_ttl_s: int = Field(default=7 * 24 * 3600, ge=300)
    session_max_age_s: int = Field(
        default=30 * 24 * 3600, ge=300, description="Absolute lifetime of a session."
    )

    # ------------------------------------------------------------------ brute force
    login_attempts_per_account_source: int = Field(default=5, ge=1)
    login_attempts_per_account: int = Field(default=20, ge=1)
    login_attempts_per_source: int = Field(default=100, ge=1)
    login_window_s: int = Field(default=15 * 60, ge=1)
    lock_base_s: float = Field(default=30.0, gt=0)
    lock_max_s: float = Field(
        default=15 * 60.0, gt=0, description="Longest lock: a victim never waits longer."
    )
    mfa_attempts: int = Field(default=5, ge=1, description="TOTP/backup tries per 5 minutes.")
    otp_requests_per_hour: int = Field(default=5, ge=1)

    # ------------------------------------------------------------------ invitations, caches
    invitation_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    invitation_url: str = Field(
        default="http://localhost:8080/invitations/accept",
        description="The page where an invitee accepts (the inbox's); org_id, invitation_id and "
        "token are appended as query parameters.",
    )
    authz_decision_ttl_s: int = Field(
        default=60, ge=0, description="How long callers may cache a decision (0: never)."
    )
    key_use_flush_s: float = Field(
        default=5.0, gt=0, description="How often API keys' last use is written (batched)."
    )
    cache_ttl_s: float = Field(
        default=30.0, ge=0, description="Safety net of inkpass's own caches beside invalidation."
    )

    # ------------------------------------------------------------------ Google sign-in
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    oauth_redirect_uris: list[str] = Field(
        default_factory=list, description="Exact redirect URIs the flow may return to."
    )
    oauth_timeout_s: float = Field(default=10.0, gt=0)

    totp_issuer: str = Field(default="fluxos", max_length=64)
