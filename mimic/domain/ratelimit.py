"""Rate limits per recipient, per organisation and per channel: fixed windows, counted in
PostgreSQL (see `adapters/ratelimits.py`) so every replica sees the same counts.

The recipient's address is hashed before it becomes a key: the counters table is shared by all
organisations and must not hold their contacts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Scope(StrEnum):
    RECIPIENT = "recipient"
    ORG = "org"
    CHANNEL = "channel"


@dataclass(frozen=True)
class Limit:
    scope: Scope
    max_count: int
    window: timedelta


@dataclass(frozen=True)
class Counter:
    """One counter to charge: which limit, whose key, which window."""

    limit: Limit
    key: str
    window_start: datetime

    @property
    def window_end(self) -> datetime:
        return self.window_start + self.limit.window


@dataclass(frozen=True)
class Limits:
    per_recipient: Limit
    per_org: Limit
    per_channel: Limit

    @classmethod
    def of(cls, *, recipient_per_hour: int, org_per_minute: int, channel_per_minute: int) -> Limits:
        return cls(
            Limit(Scope.RECIPIENT, recipient_per_hour, timedelta(hours=1)),
            Limit(Scope.ORG, org_per_minute, timedelta(minutes=1)),
            Limit(Scope.CHANNEL, channel_per_minute, timedelta(minutes=1)),
        )

    def counters(
        self, *, org_id: str, channel: str, recipient: str, now: datetime
    ) -> list[Counter]:
        digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:32]
        keyed = (
            (self.per_recipient, f"{org_id}:{channel}:{digest}"),
            (self.per_org, org_id),
            (self.per_channel, channel),
        )
        return [Counter(limit, key, window_start(now, limit.window)) for limit, key in keyed]


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)
