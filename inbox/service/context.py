"""What the inbox's use cases work with, wired once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from contracts.inbox.models import FeedEntryV1
from inbox.adapters.apikeys import ApiKeyCache
from inbox.adapters.projection_pg import ProjectionStore
from inbox.domain.cursors import CursorCodec
from inbox.domain.event_ids import EventIds
from inbox.settings import InboxSettings
from shared.auth import AuthzClient, LocalVerifier
from shared.bus import Bus
from shared.db import Database


@dataclass
class Inbox:
    settings: InboxSettings
    bus: Bus
    database: Callable[[], Database]
    verifier: LocalVerifier
    authz: AuthzClient
    api_keys: ApiKeyCache
    cursors: CursorCodec
    event_ids: EventIds
    projection: ProjectionStore = field(default_factory=ProjectionStore)
    """The projection's own connections (one statement a batch; opened at start)."""
    heard_here: list[Callable[[FeedEntryV1], None]] = field(default_factory=list)
    """Told of every feed entry this process appended, right after its commit and before it is
    announced on the bus (this replica's live streams need not wait for the round trip)."""

    @property
    def db(self) -> Database:
        return self.database()

    @property
    def timeout(self) -> float:
        return self.settings.rpc_timeout_seconds
