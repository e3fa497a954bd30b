"""What every use case works with, built once by the composition root (`inkpass/app.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from inkpass.adapters.oauth import OpenIdProvider
from inkpass.adapters.passwords import PasswordHasher
from inkpass.domain.lockout import Limit
from inkpass.service.caches import ApiKeyCache, AuthzStore
from inkpass.settings import InkPassSettings
from shared.auth import LocalVerifier, TokenCodec
from shared.bus import Bus
from shared.crypto import Keyring
from shared.db import Database


@dataclass(frozen=True)
class Limits:
    login_account_source: Limit
    login_account: Limit
    login_source: Limit
    mfa: Limit
    otp_requests: Limit
    reauth: Limit

    @classmethod
    def from_settings(cls, s: InkPassSettings) -> Limits:
        window = timedelta(seconds=s.login_window_s)
        base, cap = timedelta(seconds=s.lock_base_s), timedelta(seconds=s.lock_max_s)
        return cls(
            login_account_source=Limit(s.login_attempts_per_account_source, window, base, cap),
            login_account=Limit(s.login_attempts_per_account, window, base, cap),
            # Sources are not victims: a noisy one may wait longer than an account ever does.
            login_source=Limit(s.login_attempts_per_source, window, base, cap * 4),
            mfa=Limit(s.mfa_attempts, timedelta(minutes=5), base, cap),
            otp_requests=Limit(s.otp_requests_per_hour, timedelta(hours=1), cap, cap * 4),
            reauth=Limit(s.login_attempts_per_account_source, window, base, cap),
        )


@dataclass(frozen=True)
class Secrets:
    """Keys derived from the platform secret, one per purpose."""

    otp: bytes
    backup_codes: bytes
    invitations: bytes
    subjects: bytes
    """Keys the throttle and audit rows by a keyed hash of an email, never the email itself."""


@dataclass
class Deps:
    settings: InkPassSettings
    bus: Bus
    codec: TokenCodec
    verifier: LocalVerifier
    hasher: PasswordHasher
    keyring: Keyring
    secrets: Secrets
    limits: Limits
    api_keys: ApiKeyCache
    authz: AuthzStore
    oauth: OpenIdProvider | None
    database: Callable[[], Database]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def db(self) -> Database:
        return self.database()

    def now(self) -> datetime:
        return self.clock()
