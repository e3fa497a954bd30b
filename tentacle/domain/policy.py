"""The orchestration settings the domain rules read (filled from TentacleSettings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from contracts.tentacle.checkpoints import DefaultAction
from tentacle.domain.preferences import PreferencePolicy


@dataclass(frozen=True, slots=True)
class Policy:
    max_parallel: int = 4
    max_replans: int = 2
    checkpoint_ttl: timedelta = timedelta(hours=24)
    checkpoint_default: DefaultAction = DefaultAction.REJECT
    cost_threshold_usd: Decimal = Decimal("0.50")
    preferences: PreferencePolicy = field(default_factory=PreferencePolicy)
