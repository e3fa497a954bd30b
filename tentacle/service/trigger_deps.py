"""What the trigger and schedule use cases are given: the database, the clock, the keyring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from shared.crypto import Keyring
from shared.settings import PlatformSettings
from tentacle.adapters.pg import TaskDb


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TriggerDeps:
    db: TaskDb
    platform: PlatformSettings
    clock: Callable[[], datetime] = field(default=_now)

    @cached_property
    def keyring(self) -> Keyring:
        """Built when first needed (an interaction's reply handle is sealed), so a platform
        without a secret key runs every trigger that answers nothing."""
        return Keyring.from_settings(self.platform)
