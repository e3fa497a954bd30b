"""Settings of den (environment prefix DEN_), read once at start."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import HttpServiceSettings

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


class DenSettings(HttpServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEN_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "den"
    http_port: int = Field(default=8082, ge=0, le=65535, description="0 picks a free port.")

    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s?#]+$",
        description="Base of the URLs den hands out (behind a gateway); default: its own address.",
    )
    bucket: str = Field(
        default="den",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Object Store bucket holding the bytes (stream OBJ_<bucket>).",
    )
    chunk_bytes: int = Field(
        default=256 * KIB,
        ge=4 * KIB,
        le=1000 * KIB,
        description="Bytes per Object Store chunk (one JetStream message; under max_payload).",
    )
    part_bytes: int = Field(
        # Each part boundary waits for its acknowledgements and a transaction; at 64 MiB
        # that costs a few percent of a transfer, at 16 MiB about fifteen.
        default=64 * MIB,
        ge=4 * KIB,
        description=(
            "Bytes per stored part (one Object Store object); a resumed upload loses at most "
            "the part it was writing. A multiple of chunk_bytes."
        ),
    )
    publish_window: int = Field(
        default=32, ge=1, le=1024, description="Chunks in flight to JetStream per upload."
    )
    read_batch: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Chunks per batched direct get when reading (two batches are in flight).",
    )
    read_batch_max_bytes: int | None = Field(
        default=None,
        ge=1,
        description="Byte cap of one batched read (default: the server's own, about 64 MiB).",
    )
    max_upload_bytes: int = Field(
        default=10 * GIB, ge=0, description="Largest file den accepts, enforced while streaming."
    )
    default_quota_bytes: int = Field(
        default=100 * GIB, ge=0, description="Storage per organisation unless set over the bus."
    )
    url_signing_key: SecretStr | None = Field(
        default=None,
        description="Secret (32+ chars) signing URLs; default: derived from FLUXOS_SECRET_KEY.",
    )
    default_link_lifetime_s: int = Field(default=3600, ge=1)
    max_link_lifetime_s: int = Field(
        default=7 * 24 * 3600, ge=1, description="No signed URL lives longer than this."
    )
    upload_lifetime_s: int = Field(
        default=24 * 3600, ge=60, description="An unfinished upload is removed after this."
    )
    writer_lease_s: float = Field(
        default=30.0,
        gt=0,
        description="A writer that stops renewing its claim on an upload for this long is dead.",
    )
    trash_retention_s: float = Field(
        default=30 * 24 * 3600,
        ge=0,
        description="Files in the trash are purged after this long; 0 keeps them until purged.",
    )
    reconcile_interval_s: float = Field(
        default=60.0, gt=0, description="How often leftovers of crashed uploads are swept."
    )
    orphan_sweep_interval_s: float = Field(
        default=3600.0, gt=0, description="How often the bucket is checked for unknown objects."
    )
    orphan_grace_s: float = Field(
        default=3600.0,
        ge=0,
        description="Age after which stored bytes nothing in the database knows are removed.",
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Origins allowed to call den from a browser (URLs are capabilities).",
    )

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if self.part_bytes % self.chunk_bytes:
            raise ValueError("part_bytes must be a multiple of chunk_bytes")
        if self.default_link_lifetime_s > self.max_link_lifetime_s:
            raise ValueError("default_link_lifetime_s exceeds max_link_lifetime_s")
        if self.url_signing_key is not None and len(self.url_signing_key.get_secret_value()) < 32:
            raise ValueError("url_signing_key must be at least 32 characters")
        return self
