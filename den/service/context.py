"""What every use case works with: settings, the database, the object store, URL signing.

Built once by the composition root; the database and bus inside are only used after the
service has started (handlers and routes run only then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.den.errors import DenErrorCode
from contracts.envelope import Actor
from den.adapters.objectstore import ObjectStore
from den.domain.errors import DenError
from den.domain.signing import UrlSigner
from den.service.hashes import RunningHashes
from den.service.urls import Urls
from den.settings import DenSettings
from shared.bus import Bus
from shared.db import Database


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, for which organisation (from the envelope, or from a signed URL)."""

    org_id: str
    actor: Actor


def require_org(org_id: str | None, actor: Actor) -> Caller:
    if org_id is None:
        raise DenError(DenErrorCode.ORG_REQUIRED, "den requests must name an organisation")
    return Caller(org_id, actor)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Den:
    settings: DenSettings
    database: Callable[[], Database]
    bus: Bus
    store: ObjectStore
    signer: UrlSigner
    base_url: Callable[[], str]
    instance: str
    hashes: RunningHashes = field(default_factory=RunningHashes)
    # Every expiry, lease and retention is judged by this clock (tests set it to exact instants).
    clock: Callable[[], datetime] = utc_now

    @property
    def db(self) -> Database:
        return self.database()

    @property
    def urls(self) -> Urls:
        return Urls(self.base_url(), self.signer)

    def now(self) -> datetime:
        return self.clock()
