"""Settings of inbox (environment prefix INBOX_), read once at start."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import HttpServiceSettings


class InboxSettings(HttpServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBOX_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "inbox"
    http_port: int = Field(default=8080, ge=0, le=65535, description="0 picks a free port.")

    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest JSON or form body accepted (file uploads stream through Den).",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Requests per minute per caller (user, key or address)."
    )
    rate_limit_burst: int = Field(default=120, ge=1, description="Requests allowed at once.")
    auth_rate_limit_per_minute: int = Field(
        default=30, ge=1, description="Sign-in, sign-up and code requests per minute per address."
    )
    sse_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="Comment lines that keep proxies from closing a stream."
    )
    sse_buffer_entries: int = Field(
        default=256,
        ge=8,
        description="Entries queued per stream; a slower client catches up from the database.",
    )
    sse_max_streams: int = Field(
        default=5000, ge=1, description="Concurrent SSE streams this replica accepts."
    )
    sse_write_threads: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Threads that help the event loop write an entry to many streams at once "
        "(the socket writes release the GIL, so they run side by side); 0: the loop alone.",
    )
    rpc_timeout_seconds: float = Field(default=10.0, gt=0)
    secure_cookies: bool = Field(
        default=False, description="Mark session cookies Secure (set behind HTTPS)."
    )
    public_url: str | None = Field(
        default=None, description="The URL people reach the inbox at (links, OAuth redirects)."
    )
    google_login: bool = Field(
        default=False,
        description="Offer 'Sign in with Google' (set it once inkpass has Google credentials and "
        "allows <public_url>/login/google/callback as a redirect URI).",
    )
